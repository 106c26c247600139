"""Run the converter: python -m search_app.i18n_convert PATH..."""

import sys

from search_app.i18n_convert import main

sys.exit(main())
