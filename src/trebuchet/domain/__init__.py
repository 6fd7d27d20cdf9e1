"""Resource models, ids, validation and state machines. Imports nothing but the standard library."""
