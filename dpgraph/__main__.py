"""`python -m dpgraph ...` is the same as the `dpgraph` command."""

from dpgraph.cli import main

main(prog_name="dpgraph")
