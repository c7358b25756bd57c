from qcmcp.cli import main

main()
