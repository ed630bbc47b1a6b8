"""Start the web app on the bundled corpus: ``python app.py`` (NA_HOST / NA_PORT, default 127.0.0.1:7860)."""

import os

from assistant.api import serve

if __name__ == "__main__":
    serve(os.environ.get("NA_HOST", "127.0.0.1"), int(os.environ.get("NA_PORT", "7860")))
