"""What the course tests share: the right (and a wrong) answer to each question of a chapter's attempt,
found from the same seeded problems the course asks, so that tests can answer as a learner would."""

from __future__ import annotations

from glassgrad.course.chapters import Chapter, practice_problems, quiz_questions
from glassgrad.practice import number_text
from glassgrad.practice.quiz import LETTERS


def right_answers(chapter: Chapter, attempt: int = 0) -> tuple[list[str], list[str]]:
    """(practice answers, quiz letters), all right, for attempt ``attempt`` (0 for the first) at ``chapter``."""
    practice = [number_text(problem.answer) for problem in practice_problems(chapter, attempt)]
    quiz = [LETTERS[question.answer] for question in quiz_questions(chapter, attempt)]
    return practice, quiz


def wrong_answers(chapter: Chapter, attempt: int = 0) -> tuple[list[str], list[str]]:
    """(practice answers, quiz letters), all wrong."""
    practice = [number_text(problem.answer + 1000) for problem in practice_problems(chapter, attempt)]
    quiz = [LETTERS[(question.answer + 1) % len(question.options)] for question in quiz_questions(chapter, attempt)]
    return practice, quiz
