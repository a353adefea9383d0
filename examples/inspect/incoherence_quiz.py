"""An Inspect task that reports incoherence: `inspect eval examples/inspect/incoherence_quiz.py --epochs 30`.

Each epoch of a question draws one of 10 few-shot contexts (examples and option order seeded from the sample
id and the context), so 30 epochs are the paper's 10 contexts × 3 samples. The scorer is Inspect's
``choice()`` plus hotmess's record of the answer; the epochs reducer turns a question's 30 answers into its
bias, variance and error (KL), and the metrics print incoherence (with a bootstrap interval), bias, variance,
error and accuracy in Inspect's results. See docs/integrations/inspect.md.
"""

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import Sample
from inspect_ai.solver import multiple_choice

from hotmess.integrations.inspect import decomposition, fewshot_contexts, hotmess_scorer

QUESTIONS = [
    ("How many legs does a spider have?", ["six", "eight", "ten", "four"], "B"),
    ("Which planet is the largest in the solar system?", ["Mars", "Venus", "Jupiter", "Earth"], "C"),
    ("What is 12 times 12?", ["124", "144", "142", "122"], "B"),
    ("Which gas do plants take in for photosynthesis?", ["oxygen", "nitrogen", "carbon dioxide", "helium"], "C"),
    ("What is the boiling point of water at sea level in °C?", ["90", "100", "110", "120"], "B"),
    ("Which is the longest river in Africa?", ["Congo", "Niger", "Zambezi", "Nile"], "D"),
    ("How many sides does a hexagon have?", ["five", "six", "seven", "eight"], "B"),
    ("Which metal is liquid at room temperature?", ["mercury", "iron", "copper", "tin"], "A"),
]

EXAMPLES = [
    Sample(id="ex-bees", input="What do bees make?", choices=["milk", "honey", "silk", "wool"], target="B"),
    Sample(id="ex-earth", input="Which planet is ours?", choices=["Mars", "Venus", "Earth", "Jupiter"], target="C"),
    Sample(id="ex-ice", input="What is frozen water called?", choices=["steam", "sand", "glass", "ice"], target="D"),
    Sample(id="ex-snow", input="What colour is snow?", choices=["white", "blue", "red", "green"], target="A"),
    Sample(id="ex-week", input="How many days are in a week?", choices=["five", "six", "seven", "eight"], target="C"),
]


@task
def incoherence_quiz(contexts: int = 10, shots: int = 3) -> Task:
    """Eight multiple-choice questions; run with --epochs contexts × samples per context (default 30)."""
    return Task(
        dataset=[Sample(id=f"q{i:02d}", input=q, choices=c, target=t) for i, (q, c, t) in enumerate(QUESTIONS)],
        solver=[fewshot_contexts(EXAMPLES, k=shots, contexts=contexts), multiple_choice()],
        scorer=hotmess_scorer(),
        epochs=Epochs(30, decomposition()),
    )
