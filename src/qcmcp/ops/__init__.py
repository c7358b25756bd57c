"""Operations: health and readiness (metrics, limits and caches follow)."""
