"""Sub-commands of `khadamat`: each module defines add_parser(subparsers, parent) and run(args)."""
