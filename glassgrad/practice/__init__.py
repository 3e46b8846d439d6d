"""Practice: generated, auto-graded exercises, printable worksheets and quizzes.

Every answer is computed by glassgrad itself (float64 tensors, ``backward()``), and every
problem is seeded: the same kind, seed, size and difficulty give the same problem.

>>> from glassgrad import practice
>>> problem = practice.generate("relu-backward", seed=3)
>>> problem.check(practice.number_text(problem.answer)).correct
True

Kinds: see :data:`KINDS` (``glassgrad practice generate --help`` lists them too). Command
line: ``glassgrad practice``, ``glassgrad practice generate``, ``glassgrad practice check``,
``glassgrad practice sheet`` and ``glassgrad quiz``.
"""

from .answers import AnswerError, Verdict, check_answer, parse_answer
from .network import diagonal_flip_steps, network_steps
from .numbers import number_text
from .problem import Blank, Problem
from .problems import KINDS, generate, generate_set, load_problem_set, problem_set_document, validate_document
from .quiz import QuizExercise, QuizQuestion, build_quiz, live_question, load_bank
from .session import ProblemExercise, Score, run_session
from .trace_steps import load_trace, steps_from_trace
from .worksheet import Step, TraceWorksheet, problems_html, problems_markdown, trace_worksheet

__all__ = [
    "KINDS", "AnswerError", "Blank", "Problem", "ProblemExercise", "QuizExercise", "QuizQuestion", "Score", "Step",
    "TraceWorksheet", "Verdict", "build_quiz", "check_answer", "diagonal_flip_steps", "generate", "generate_set",
    "live_question", "load_bank", "load_problem_set", "load_trace", "network_steps", "number_text", "parse_answer",
    "problem_set_document", "problems_html", "problems_markdown", "run_session", "steps_from_trace", "trace_worksheet",
    "validate_document",
]
