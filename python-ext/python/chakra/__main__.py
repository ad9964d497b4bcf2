"""``python -m chakra migrate …``: the ``chakra`` console script."""

from .migrate import console

if __name__ == "__main__":
    console()
