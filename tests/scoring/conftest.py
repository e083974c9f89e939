import sys
from pathlib import Path

# synth.py lives next to the tests; the tests import it as a plain module
sys.path.insert(0, str(Path(__file__).parent))
