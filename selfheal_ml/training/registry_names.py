"""The names under which the repair-strategy model is tracked and served.

Kept apart from ``train.py`` (scikit-learn, matplotlib) so that the service, which only
serves the champion, reads them without importing the training code.
"""

MODEL_NAME = "repair-strategy"
EXPERIMENT = "repair-strategy"
CHAMPION = "champion"
