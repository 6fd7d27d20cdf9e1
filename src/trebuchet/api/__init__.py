"""The Catapult v1 REST face: thin FastAPI handlers over the domain and the engine's command interface."""
