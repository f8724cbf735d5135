// Shared test support: reference oracles and fixtures.
