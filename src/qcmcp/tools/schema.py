"""Flat JSON-schema parameters for a tool, derived from its generated request model.

The model is the single source of truth: the schema clients see in ``tools/list`` and
the validation the server applies come from the same class.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qcmcp.tools.spec import SERVER_DEFAULTED, ToolSpec


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _tidy(node: Any) -> Any:
    """Drop generated titles and collapse ``anyOf [X, null]`` of optional fields to ``X``.

    An optional parameter is expressed by leaving it out, so advertising ``null`` only
    adds noise for the reading model (``null`` is still accepted and means "omitted").
    """
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _tidy(value) for key, value in node.items() if not (key == "title" and isinstance(value, str))}
    options = node.get("anyOf")
    if isinstance(options, list) and any(_is_null(o) for o in options):
        rest = [o for o in options if not _is_null(o)]
        node.pop("anyOf")
        if node.get("default", ...) is None:
            node.pop("default")
        if len(rest) == 1:
            node = {**rest[0], **node}
        else:
            node["anyOf"] = rest
    options = node.get("anyOf")
    if isinstance(options, list) and all(isinstance(o, dict) and set(o) == {"type"} for o in options):
        node = {"type": [o["type"] for o in node.pop("anyOf")], **node}  # the same, said once
    return node


def _inline(node: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """Replace ``$ref`` with the definition it names, so each parameter reads on its own.

    A reference back into a definition being expanded stays a ``$ref`` (recursion).
    """
    if isinstance(node, list):
        return [_inline(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return node
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {**_inline(defs[name], defs, (*seen, name)), **_inline(rest, defs, seen)}
    return {key: _inline(value, defs, seen) for key, value in node.items()}


# Upstream parameter descriptions that say no more than the parameter's name, type, enum and the tool's own
# description ("" drops them), or say it at length (the shorter text replaces them). Keyed by the spec's text, so
# a description the spec changes is shown as it is until it is looked at here.
_SAYS_NOTHING = (
    # ids: an agent copies them from the answer that made them
    "Compile Id for the project to backtest.", "Compile Id returned during the creation request.", "Compile Id.",
    "Id of the Project to get a list of optimizations for.", "Id of the backtest for this chart request.",
    "Id of the backtest from which to read the insights.", "Id of the backtest from which to read the orders.",
    "Id of the backtest to delete.", "Id of the backtest to read.", "Id of the backtest to update.",
    "Id of the download job for the files.", "Id of the node that will run the algorithm.",
    "Id of the optimization to abort.", "Id of the optimization to delete.", "Id of the optimization to read.",
    "Id of the optimization to update.", "Id of the project from which to read one or multiple backtests.",
    "Id of the project from which to read the backtest.", "Id of the project from which to read the collaborators.",
    "Id of the project from which to read the live algorithm.", "Id of the project that contains the backtest.",
    "Id of the project that contains the file.", "Id of the project that contains the live running algorithm.",
    "Id of the project that's live trading.", "Id of the project the collaborator is on.",
    "Id of the project to add the collaborator to.", "Id of the project to add the file.",
    "Id of the project to backtest.", "Id of the project to compile.", "Id of the project to delete.",
    "Id of the project to edit.", "Id of the project to optimize.", "Id of the project to read.",
    "Id of the project to remove the collaborator from.", "Id of the project to stop trading live.",
    "Id of the project to which the nodes refer.", "Id of the project you requested to compile.",
    "Optimization compile Id.", "Project Id for the live instance to liquidate.",
    "Project Id to which the file belongs.",
    "Project Id to which the nodes refer.", "Project Id.", "Project for the live instance we want to run the command "
    "against.", "User Id of the collaborator to add.", "User Id of the collaborator to update.",
    "Organization Id of the projects we would like to broadcast the command to",
    # the organization: the server's own note says it defaults to yours
    "Id of the organization that owns the Object Store.", "Id of the organization to list the Object Store files "
    "from.", "Orgainization ID.", "The organization to create project under. If you don't provide a value, it "
    "defaults to your preferred organization.",
    # names, contents and choices whose name or enum says it all
    "Contents of the file.", "Name of a file.", "File for a AI.", "Files of the project.", "Files to process.",
    "Files to process. One of the files must have the name main.py (when language=Py) or Main.cs (when "
    "language=C#).", "The content of the new file.", "The current name of the file.", "The name of the file to "
    "delete.", "The name of the file to read.", "The name of the file to update.", "The name of the new file.",
    "The new contents of the file.", "The new name for the file.", "The new description for the project.",
    "The new name for the project.", "Project name.", "Name of the optimization.", "Name to assign to the "
    "optimization.", "Name to assign to the backtest.", "Note to attach to the backtest.", "Programming language.",
    "Programming language to use.", "Programming language for the code completion.", "Programming language of the "
    "content to search.", "Criteria for the search.", "Search criteria.", "Input for the search.", "Type of the "
    "search criteria.", "Number of results to return.", "Error message to enhance.", "Stack trace of the error.",
    "Sentence to complete.", "Key of the Object Store file to delete.", "Key in the Object Store.", "Unique key to "
    "access the object in Object Store.", "Keys of the Object Store files.", "Object data to be stored.", "Path to "
    "a directory in the Object Store.", "The brokerage to authenticate a connection with.", "The command to run.",
    "Status of the live algorithms to include in the response.", "The number of data points to request.",
    "Starting index of the orders to be fetched.", "Starting index of the insights to be fetched.",
    "Starting index of the insights to be fetched. Required if end > 100.",
    "Start line (inclusive) of logs to read. The lines numbers start at 0.",
    "End line (exclusive) of logs to read, where endLine - startLine <= 250.",
    "The start timestamp of the request in Unix time.", "The end timestamp of the request in Unix time.",
    "The unix start time of the request.", "The unix end time of the request.",
    "List of node Ids the project may use. If you omit this property or pass an empty list, the best node will be "
    "automatically selected for backtest, research, and live trading.",
    "If true, the backtests summaries from the response will contain the statistics with their corresponding values.",
    # optimizations: the tool's description and the enums say what these are
    "Optimization node types available in QuantConnect Cloud.", "Parameters to use for the backtest.",
    "Name for the new backtest.",
    "Optimization parameters.", "Optimization strategy.", "Optimization node type.", "Name of optimization "
    "parameter.", "Maximum value of optimization parameter, applicable for boundary conditions.", "Minimum value of "
    "optimization parameter, applicable for boundary conditions.", "Target statistic of the optimization to minimize "
    "or maximize.", "Target extremum of the optimization.", "The target comparison operation.", "The target "
    "statistic to track.", "The threshold value for the target constraint.", "Backtests in the optimization job that "
    "don't respect this constraint are excluded from the optimization result.",
)
BRIEF: dict[str, str] = {
    **dict.fromkeys(_SAYS_NOTHING, ""),
    "Deploy Id (Algorithm Id) of the live running algorithm.": "The deployId.",
    "Id of the project. If not provided the API will return a details list of all projects.":
        "Omit it to page through all projects.",
    "Starting index of the projects to be fetched. 0th index based. Defaults to 0.": "Default 0.",
    "Last index of the projects to be fetched. Exclusive of the end index.": "Exclusive.",
    "Name of the environment that's creating the request.": "Your client's name.",
    "The version of the Lean used to run the algorithm. -1 is master, however, sometimes this can create problems "
    "with live deployments. If you experience problems using, try specifying the version of Lean you would like to "
    "use.": "'-1' is the latest; if a deployment fails on it, an id from read_lean_versions.",
    "Project for the live instance we want to exclude from the broadcast list. If null, all projects will be "
    "included.": "A project whose algorithm does not get it.",
    "The requested chart name.": "e.g. 'Strategy Equity'.", "Name of the chart to read.": "e.g. 'Strategy Equity'.",
    "Gives the right to deploy and stop live algorithms.": "May deploy and stop live algorithms.",
    "Gives the right to edit the code.": "May edit code.",
    "Optimization constraints.": "Backtests failing one are left out of the results.",
    "Estimated cost for optimization.": "QCC, from estimate_optimization_time.",
    "Number of parallel nodes for optimization.": "Backtests run at once.",
    "Desired value for the optimization target statistic.": "Stop once the target reaches it.",
    "Movement, should be positive.": "Positive.",
    "Brokerage configuration for the live algorithm.": "",
    "Dictionary of data provider configurations to be used in the live algorithm. Provide at least one. The order in "
    "which you define the providers defines their order of precedence.": "At least one; the first takes precedence.",
    "Optimization strategy. RandomSearchOptimizationStrategy is a qcmcp sandbox extension; QuantConnect cloud runs "
    "grid and Euler search.": "Random search: the sandbox only.",
    "Minimal possible movement for current parameter, should be positive. Used by <code>Strategies."
    "EulerSearchOptimizationStrategy</code> to determine when this parameter can no longer be optimized.":
        "Smallest step, positive (Euler search).",
}


def _brief(node: Any) -> Any:
    """Every description the BRIEF table knows, shortened or dropped (see above)."""
    if isinstance(node, list):
        return [_brief(item) for item in node]
    if not isinstance(node, dict):
        return node
    brief = {key: _brief(value) for key, value in node.items()}
    text = brief.get("description")
    if isinstance(text, str) and text.strip() in BRIEF:
        if BRIEF[text.strip()]:
            brief["description"] = BRIEF[text.strip()]
        else:
            del brief["description"]
    return brief


def _refs(node: Any) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or any(_refs(v) for v in node.values())
    return isinstance(node, list) and any(_refs(v) for v in node)


SCHEMA_FILE = Path(__file__).with_name("parameters.json")


@functools.cache
def _committed() -> dict[str, Any]:
    """Schemas generated by scripts/generate_tool_schemas.py (kept fresh by a test)."""
    try:
        loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return loaded


def parameters_schema(spec: ToolSpec) -> dict[str, Any]:
    """The ``inputSchema`` for ``spec``: one property per request field, no wrapper.

    Read from the committed file so start-up never builds models; a tool missing from
    it (added without regenerating) falls back to building from its model.
    """
    schema = _committed().get(spec.name)
    return copy.deepcopy(schema if schema is not None else build_parameters_schema(spec))


@functools.cache
def parameter_names(spec: ToolSpec) -> frozenset[str]:
    """The names of a tool's parameters, for checks on every call (no schema copy)."""
    return frozenset(parameters_schema(spec)["properties"])


@functools.cache
def build_parameters_schema(spec: ToolSpec) -> dict[str, Any]:
    """Derive the flat schema from the request model (the source of truth)."""
    # No ``additionalProperties: false`` (29 bytes a tool): the server refuses an unknown argument by the
    # properties listed here (arguments.validate_arguments), and the catalog export states it outright.
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    request_model = spec.request_model
    if request_model is None:
        return schema
    raw = _brief(request_model.model_json_schema(by_alias=True))
    properties = {name: prop for name, prop in raw.get("properties", {}).items() if name not in spec.hidden}
    required = [name for name in raw.get("required", []) if name in properties
                and (name not in SERVER_DEFAULTED or name == spec.confirm)]
    for name, note in spec.parameter_notes:
        properties[name] = {**properties[name], "description": note}
    for name, note in SERVER_DEFAULTED.items():
        if name in properties and name != spec.confirm:
            properties[name] = {**properties[name],
                                "description": f"{properties[name].get('description', '').strip()} {note}".strip()}
    if required:
        schema["required"] = required
    defs = raw.get("$defs", {})
    schema["properties"] = _inline(properties, defs)
    if spec.confirm:
        schema["properties"]["confirm"] = confirm_parameter(spec.confirm)
    if _refs(schema["properties"]):
        schema["$defs"] = defs
    tidy = _tidy(schema)
    listed: dict[str, tuple[str, list[str]]] = {}  # module id -> (parameter, field lists) already described
    tidy["properties"] = {name: _lean(_compact_modules(prop, name, listed), name)
                          for name, prop in tidy["properties"].items()}
    return tidy


def _lean(node: Any, name: str = "") -> Any:
    """Drop what costs an agent context and tells it nothing: ``additionalProperties: true`` (the default) and
    examples (ids included: an agent copies an id from the answer that made it, it never writes one)."""
    if isinstance(node, list):
        return [_lean(item) for item in node]
    if not isinstance(node, dict):
        return node
    lean = {}
    for key, value in node.items():
        if (key == "additionalProperties" and value is True) or key == "examples":
            continue
        if key == "properties" and isinstance(value, dict):
            lean[key] = {child: _lean(item, child) for child, item in value.items()}
        else:
            lean[key] = _lean(value)
    return lean


MIN_VARIANTS = 4  # a parameter with this many module variants is listed compactly


def _compact_modules(prop: dict[str, Any], name: str = "",
                     listed: dict[str, tuple[str, list[str]]] | None = None) -> dict[str, Any]:
    """Brokerage and data-provider settings as one compact schema: the module ids in an enum, each module's
    fields named once in the description (``*`` = required). The 20 full variants took 34 KB of ``tools/list``;
    validation still uses the full request model, so nothing a caller needs to be told is lost. A module whose
    fields an earlier parameter of the tool already listed (a data provider that is also the brokerage) is named,
    not listed again."""
    listed = {} if listed is None else listed
    variants = _variants(prop)
    if len(variants) >= MIN_VARIANTS and all(_module_id(v) for v in variants):
        by_id = _by_id([(str(_module_id(v)), v) for v in variants])
        listed.update({module: (name, fields) for module, fields in by_id.items()})
        return {"type": "object", "required": ["id"], "additionalProperties": True,
                "properties": {"id": {"type": "string", "enum": list(by_id)}},
                "description": f"{prop.get('description', '').strip()} Give the id and that module's fields "
                               f"(* = required): {_table(by_id)}."}
    modules = prop.get("properties")
    if (prop.get("type") == "object" and isinstance(modules, dict) and len(modules) >= MIN_VARIANTS
            and all(_module_id(v) for value in modules.values() for v in _variants(value) or [value])):
        by_id = _by_id([(module, v) for module, value in modules.items() for v in _variants(value) or [value]])
        same = {module: listed[module][0] for module, fields in by_id.items()
                if module in listed and _without_holdings(listed[module][1]) == _without_holdings(fields)}
        table = _table({module: fields for module, fields in by_id.items() if module not in same})
        for where in dict.fromkeys(same.values()):
            named = [module for module, source in same.items() if source == where]
            others = [module for module, (source, _) in listed.items()
                      if source == where and module not in same and module not in by_id]
            if len(others) < len(named):  # the shorter list: the brokerage modules that are no data provider
                table += f"; every other {where} id but {', '.join(others)}, with its {where} fields"
            else:
                table += f"; {', '.join(named)}: their {where} fields"
            table += " less holdings and cash"
        compact: dict[str, Any] = {
            "type": "object",
            "additionalProperties": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
            "description": f"{prop.get('description', '').strip()} Each key names a provider, its value that "
                           f"provider's settings with their id (* = required): {table}."}
        if "default" in prop:
            compact["default"] = prop["default"]
        return compact
    return prop


def _variants(prop: dict[str, Any]) -> list[Any]:
    options = prop.get("anyOf") or prop.get("oneOf")
    return options if isinstance(options, list) else []


def _by_id(variants: list[tuple[str, Any]]) -> dict[str, list[str]]:
    """Each module's field lists (more than one when variants share an id, as Binance's exchanges do)."""
    by_id: dict[str, list[str]] = {}
    for name, variant in variants:
        fields = _fields(variant)
        listed = by_id.setdefault(name, [])
        if fields not in listed:
            listed.append(fields)
    return by_id


def _without_holdings(fields: list[str]) -> list[str]:
    """A brokerage's field lists less the starting holdings and cash, which a data provider does not take."""
    kept = [", ".join(f for f in text.split(", ") if f.rstrip("*[]") not in ("holdings", "cash")) for text in fields]
    return [text or "no other fields" for text in kept]


def _table(by_id: dict[str, list[str]]) -> str:
    """``name: fields`` per module; variants sharing a name are joined with 'or'."""
    return "; ".join(f"{module}: {' or '.join(f'({f})' if len(fields) > 1 else f for f in fields)}"
                     for module, fields in by_id.items())


def _module_id(variant: Any) -> str | None:
    identifier = variant.get("properties", {}).get("id", {}) if isinstance(variant, dict) else {}
    value = identifier.get("const") or (identifier.get("enum") or [None])[0]
    return value if isinstance(value, str) else None


def _fields(variant: dict[str, Any]) -> str:
    required = set(variant.get("required", []))
    names = [f"{name}{'*' if name in required else ''}{'[]' if field.get('type') == 'array' else ''}"
             for name, field in variant.get("properties", {}).items() if name != "id"]
    return ", ".join(names) or "no other fields"


def confirm_parameter(repeats: str) -> dict[str, Any]:
    """Live-money tools take an optional ``confirm`` that repeats a parameter (when the client cannot elicit)."""
    return {"type": "string", "description": f"The {repeats} again, once the user agreed, if your client cannot ask."}


def render_all(specs: Iterable[ToolSpec]) -> str:
    """The text of parameters.json for ``specs`` (deterministic, for the freshness test)."""
    return json.dumps({spec.name: build_parameters_schema(spec) for spec in specs}, indent=1, sort_keys=True) + "\n"
