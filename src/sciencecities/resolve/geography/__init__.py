"""Geography: institution -> place (GeoNames) -> science city (a boundary unit) -> country -> groups (DESIGN §6)."""
