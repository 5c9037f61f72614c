"""Portal clients (TRACES, IT portal), their modules and the module registry."""
