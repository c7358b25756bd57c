"""Operations: health and readiness, metrics, limits, the circuit breaker and the read cache."""
