"""Commands beyond the core four, each in its own module; ``cli.py`` registers them."""
