"""Quiz-attempt benchmark: the issue's budgets, measured, not asserted.

    .venv/bin/python -m benchmarks.attempt                 # all three figures
    .venv/bin/python -m benchmarks.attempt --cpu-only      # grading CPU only (no local cloud)

Printed:
* CPU time to grade 200 answers of a 50-question quiz (every auto-graded type, the pure functions
  the Grade task runs; budget <= 50 ms);
* state transitions of an auto-graded attempt, submitted and auto-submitted at a 2-second deadline
  (budget <= 8), from the execution history on the local cloud;
* DynamoDB calls of ``POST /lessons/{lessonId}/attempts`` on the API side (budget <= 3), for a start
  after the first one since the publication (the first refreshes the published copy once).
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from typing import Any


def grading_cpu_ms(answers: int = 200, questions: int = 50) -> float:
    from lms.assessments.questions import Question
    from lms.assessments.scoring import score_attempt

    kinds: list[dict[str, Any]] = [
        {
            "type": "multiple_choice",
            "options": [{"optionId": c, "text": c} for c in "abcd"],
            "correct": ["a", "c"],
        },
        {"type": "short_answer", "acceptedAnswers": ["Paris", "paris france"]},
        {"type": "numeric", "answer": 3.14, "tolerance": 0.01},
        {"type": "matching", "pairs": [{"left": f"l{i}", "right": f"r{i}"} for i in range(4)]},
        {"type": "true_false", "correct": True},
    ]
    bank = [
        Question(question_id=f"q{i}", course_id="c", text="?", points=2, **kinds[i % len(kinds)])
        for i in range(questions)
    ]
    given = {
        "multiple_choice": ["a", "b"],
        "short_answer": "  PARIS ",
        "numeric": 3.145,
        "matching": [{"left": "l0", "right": "r0"}, {"left": "l1", "right": "r2"}],
        "true_false": True,
    }
    answer_sets = [{q.question_id: given[q.type.value] for q in bank} for _ in range(answers // questions)]
    started = time.process_time()
    for answer_set in answer_sets:
        score_attempt(bank, answer_set)
    return (time.process_time() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cpu-only", action="store_true")
    args = parser.parse_args()
    print(f"Grading 200 answers of a 50-question quiz: {grading_cpu_ms():6.1f} ms CPU   (budget <= 50)")
    if args.cpu_only:
        return 0
    os.environ.setdefault("LMS_JWT_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    from infra.local.api_gateway import LocalApi
    from infra.local.cloud import LocalCloud
    from infra.local.seed import seed_demo_data
    from lms.table import Table
    from tests.conftest import ApiClient, register_user
    from tests.publishing import transitions_outside_map
    from tests.purchases import execution
    from tests.quizzes import attempt_until, enroll, published_quiz, start
    from workflows import executions
    from workflows.attempt import ATTEMPT

    cloud = LocalCloud(port=0).start()
    cloud.bootstrap()
    api = LocalApi(port=0).start()
    try:
        password = secrets.token_urlsafe(12)
        demo = seed_demo_data(Table(), password)
        anonymous = ApiClient(api.url)
        admin = anonymous.login("admin@example.com", password)
        instructor = anonymous.login("instructor@example.com", password)
        category = demo.categories["Python"].category_id
        quiz = published_quiz(instructor, category, timeLimitSeconds=2)

        figures = {}
        for how in ("submitted", "auto-submitted"):
            student = register_user(anonymous, admin, "student").client
            enroll(student, quiz.course_id)
            attempt = start(student, quiz.lesson_id)
            if how == "submitted":
                student.post(f"/attempts/{attempt['attemptId']}/submit")
            attempt_until(student, attempt["attemptId"], "GRADED", timeout=120)
            _, history = execution(executions.execution_arn(ATTEMPT, attempt["executionName"]), timeout=60)
            figures[how] = transitions_outside_map(history)

        calls: list[str] = []
        student = register_user(anonymous, admin, "student").client
        enroll(student, quiz.course_id)
        from tests.conftest import api_client

        api_client("dynamodb").meta.events.register(
            "before-call.dynamodb", lambda model, **_: calls.append(model.name)
        )
        calls.clear()
        start(student, quiz.lesson_id)

        print(f"Auto-graded attempt, submitted:        {figures['submitted']:3d} transitions (budget <= 8)")
        print(
            f"Auto-graded attempt, at its deadline:  {figures['auto-submitted']:3d} transitions (budget <= 8)"
        )
        print(
            f"Start of an attempt, API side:         {len(calls):3d} DynamoDB calls {calls}   (budget <= 3)"
        )
        return 0
    finally:
        api.stop()
        cloud.stop()


if __name__ == "__main__":
    raise SystemExit(main())
