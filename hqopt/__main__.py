"""``python -m hqopt``: the same as the ``hqopt`` command."""

from hqopt.cli import main

if __name__ == "__main__":
    main()
