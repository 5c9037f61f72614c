"""A simulator of TRACES and the IT portal: real field names, deterministic data, faults on demand."""
