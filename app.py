"""Start the web app on the bundled corpus: ``python app.py`` (host/port from NA_HOST / NA_PORT)."""

import os

from assistant.ui import launch

if __name__ == "__main__":
    launch(os.environ.get("NA_HOST", "127.0.0.1"), int(os.environ.get("NA_PORT", "7860")))
