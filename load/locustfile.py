"""The product's users under load (Locust, FastHttpUser). Run by :mod:`load.run`; ``locust -f
load/locustfile.py`` works too, given the environment :mod:`load.__main__` passes (below).

* :class:`Visitor` browses the catalog and its categories, anonymously;
* :class:`Buyer` registers, logs in, buys a paid course and pays through Stripe (localstripe), then
  polls the transaction until COMPLETED: the whole purchase is the flow ``purchase``;
* :class:`Learner` enrols in a free course and posts progress (finishing it starts a certificate);
* :class:`Instructor` creates and edits a course and publishes it: the flow ``publish`` (until
  PUBLISHED);
* :class:`Admin` lists workflow executions and transactions.

Not yet covered: quiz attempts and forum posts (their features are being built).

Environment: ``LOAD_STRIPE_URL`` and ``LOAD_STRIPE_KEY`` (the customer's side of a payment), and the
staff logins ``LOAD_INSTRUCTOR_EMAIL``/``LOAD_INSTRUCTOR_PASSWORD`` and
``LOAD_ADMIN_EMAIL``/``LOAD_ADMIN_PASSWORD`` (the runner creates them on a local ``lms dev``);
without a staff login, that kind of user idles.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

from load.flows import Flow, FlowError, measured_flow

SUCCEEDING_CARD = "4242424242424242"
POLL_SECONDS = 0.5
PASSWORD = "load-suite password 1"
COURSE_TITLE = "Load course "  # the courses the suite writes (and its admins approve)
_pick = random.Random()  # noqa: S311 - shapes the load, guards nothing  # every student of the run has it: they are throwaway accounts


class ProductUser(FastHttpUser):
    """What every kind of user shares: calls that judge the answer, and a login."""

    abstract = True
    token: str | None = None

    def call(
        self,
        method: str,
        path: str,
        *,
        name: str | None = None,
        expect: tuple[int, ...] = (200,),
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Any:
        """One request, a failure unless its status is expected; returns the JSON body (or None).

        Inside a flow, a failed step fails the flow too (:class:`FlowError`)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        with self.client.request(
            method, path, name=name or path, headers=headers, catch_response=True, **kwargs
        ) as response:
            if response.status_code not in expect:
                message = f"{method} {name or path}: {response.status_code} {(response.text or '')[:200]}"
                response.failure(message)
                if flow is not None:
                    raise FlowError(message)
                return None
            response.success()
            return response.json() if response.text else None

    def login(self, email: str, password: str) -> dict[str, Any] | None:
        answer = self.call("POST", "/auth/login", json={"email": email, "password": password})
        self.token = answer["accessToken"] if answer else None
        return answer


class Visitor(ProductUser):
    """Browses the catalog without an account."""

    weight = 5
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.courses: list[str] = []

    @task(4)
    def browse_courses(self) -> None:
        page = self.call("GET", "/courses")
        if page:
            self.courses = [course["courseId"] for course in page["items"]]

    @task(2)
    def browse_categories(self) -> None:
        categories = self.call("GET", "/categories")
        if categories and categories["items"]:
            category = _pick.choice(categories["items"])
            self.call("GET", f"/courses?categoryId={category['categoryId']}", name="/courses?categoryId=")

    @task(3)
    def read_a_course(self) -> None:
        if self.courses:
            course_id = _pick.choice(self.courses)
            self.call("GET", f"/courses/{course_id}", name="/courses/{courseId}")
            self.call("GET", f"/lessons/{course_id}", name="/lessons/{courseId}")


class Student(ProductUser):
    """A newly registered, logged-in student."""

    abstract = True
    user_id: str | None = None

    def register(self) -> bool:
        email = f"load-{uuid.uuid4().hex[:12]}@example.org"
        body = {"email": email, "password": PASSWORD, "firstName": "Load", "lastName": "Student"}
        self.token = None
        if self.call("POST", "/auth/register", json=body, expect=(201,)) is None:
            return False
        answer = self.login(email, PASSWORD)
        self.user_id = answer["user"]["userId"] if answer else None
        return self.user_id is not None

    def published(self, *, free: bool) -> list[dict[str, Any]]:
        page = self.call("GET", "/courses")
        items = page["items"] if page else []
        return [c for c in items if (c["priceCents"] == 0) == free]


class Buyer(Student):
    """Registers, then buys the paid courses one by one, paying by card; then a new buyer arrives."""

    weight = 3
    wait_time = between(1, 2)

    def on_start(self) -> None:
        self.owned: set[str] = set()
        self.register()

    @task
    def buy_a_course(self) -> None:
        if self.user_id is None:
            self.register()
            return
        choices = [c for c in self.published(free=False) if c["courseId"] not in self.owned]
        if not choices:  # bought everything: the next customer
            self.owned = set()
            self.register()
            return
        course_id = _pick.choice(choices)["courseId"]
        with measured_flow(self.environment.events.request.fire, "purchase", deadline_seconds=120) as flow:
            self.purchase(course_id, flow)
            self.owned.add(course_id)

    def purchase(self, course_id: str, flow: Flow) -> None:
        started = self.call("POST", "/transactions", json={"courseId": course_id}, expect=(202,), flow=flow)
        path = f"/transactions/{self.user_id}/{started['transactionId']}"
        transaction = self.transaction(path, flow)
        while not transaction.get("stripePaymentId"):  # the checkout page polls for the PaymentIntent
            flow.check_deadline("without a PaymentIntent")
            time.sleep(POLL_SECONDS)
            transaction = self.transaction(path, flow)
        self.pay(transaction["stripePaymentId"], flow)
        while transaction["status"] == "PENDING":
            flow.check_deadline("PENDING")
            time.sleep(POLL_SECONDS)
            transaction = self.transaction(path, flow)
        if transaction["status"] != "COMPLETED":
            raise FlowError(f"purchase ended {transaction['status']}: {transaction.get('reason')}")

    def transaction(self, path: str, flow: Flow) -> dict[str, Any]:
        answer: dict[str, Any] = self.call(
            "GET", path, name="/transactions/{userId}/{transactionId}", flow=flow
        )
        return answer

    def pay(self, payment_intent: str, flow: Flow) -> None:
        """The customer's browser (Stripe.js): a card, then confirm; against localstripe or Stripe
        test mode (which takes a test PaymentMethod instead of a raw card number)."""
        stripe_url = os.environ.get("LOAD_STRIPE_URL", "")
        if not stripe_url:
            raise FlowError("no Stripe to pay with (LOAD_STRIPE_URL)")
        headers = {
            "Authorization": f"Bearer {os.environ.get('LOAD_STRIPE_KEY', '')}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        token, self.token = self.token, None  # the customer's card goes to Stripe, not to us

        def stripe(path: str, name: str, form: dict[str, str]) -> Any:
            return self.call(
                "POST",
                f"{stripe_url}{path}",
                name=f"[stripe] {name}",
                headers=headers,
                data=urlencode(form),
                flow=flow,
            )

        try:
            if "api.stripe.com" in stripe_url:
                method = "pm_card_visa"
            else:
                card = {
                    "type": "card",
                    "card[number]": SUCCEEDING_CARD,
                    "card[exp_month]": "12",
                    "card[exp_year]": "2040",
                    "card[cvc]": "123",
                }
                method = stripe("/v1/payment_methods", "create payment method", card)["id"]
            stripe(
                f"/v1/payment_intents/{payment_intent}", "attach payment method", {"payment_method": method}
            )
            stripe(f"/v1/payment_intents/{payment_intent}/confirm", "confirm payment", {})
        finally:
            self.token = token


class Learner(Student):
    """Enrols in a free course, reads its lessons and posts progress; a new learner when done."""

    weight = 2
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.lessons: list[str] = []
        self.course_id: str | None = None

    def enrol(self) -> None:
        self.lessons, self.course_id = [], None
        if not self.register():
            return
        free = self.published(free=True)
        if not free:
            return
        course_id = free[0]["courseId"]
        if self.call("POST", "/transactions", json={"courseId": course_id}, expect=(202,)) is None:
            return
        lessons = self.call("GET", f"/lessons/{course_id}", name="/lessons/{courseId}")
        # Quiz and assignment lessons are completed by grading, not by a progress post (422).
        self.lessons = [
            lesson["lessonId"]
            for lesson in (lessons or {}).get("items", [])
            if lesson.get("type") not in ("quiz", "assignment")
        ]
        self.course_id = course_id

    @task
    def post_progress(self) -> None:
        if not self.lessons:
            self.enrol()
            return
        lesson_id = self.lessons[0]
        finished = _pick.random() < 0.3
        body = {"timeSpent": _pick.randint(30, 300), **({"isCompleted": True} if finished else {})}
        self.call("POST", f"/lessons/{lesson_id}/progress", name="/lessons/{lessonId}/progress", json=body)
        if finished:
            self.lessons.pop(0)
        self.call("GET", f"/courses/{self.course_id}/progress", name="/courses/{courseId}/progress")
        self.call("GET", "/enrollments")


class Staff(ProductUser):
    """A staff account given by the runner (``LOAD_<ROLE>_EMAIL`` / ``_PASSWORD``)."""

    abstract = True
    role = ""

    def on_start(self) -> None:
        email = os.environ.get(f"LOAD_{self.role}_EMAIL")
        password = os.environ.get(f"LOAD_{self.role}_PASSWORD")
        if email and password:
            self.login(email, password)


class Instructor(Staff):
    """Creates a course with two lessons, edits it, and publishes it: the flow ``publish``, until
    PUBLISHED (an instructor's first publication waits for an :class:`Admin` to approve it)."""

    weight = 1
    wait_time = between(2, 5)
    role = "INSTRUCTOR"

    @task
    def write_and_publish(self) -> None:
        if self.token is None:
            return
        categories = self.call("GET", "/categories")
        if not categories or not categories["items"]:
            return
        category_id = _pick.choice(categories["items"])["categoryId"]
        course = self.call(
            "POST",
            "/courses",
            json={
                "title": f"{COURSE_TITLE}{uuid.uuid4().hex[:8]}",
                "description": "A course written by the load suite.",
                "categoryId": category_id,
                "priceCents": _pick.choice((0, 1900, 4900)),
                "currency": "usd",
                "difficulty": "beginner",
            },
            expect=(201,),
        )
        if course is None:
            return
        course_id = course["courseId"]
        for index in range(2):
            self.call(
                "POST",
                "/lessons",
                json={
                    "courseId": course_id,
                    "title": f"Lesson {index + 1}",
                    "type": "text",
                    "content": f"<p>The text of lesson {index + 1}.</p>",
                    "orderIndex": index,
                },
                expect=(201,),
            )
        self.call(
            "PUT",
            f"/courses/{course_id}",
            name="/courses/{courseId}",
            json={"description": "A course written, then edited, by the load suite."},
        )
        with measured_flow(self.environment.events.request.fire, "publish", deadline_seconds=120) as flow:
            self.call(
                "POST",
                f"/courses/{course_id}/publish",
                name="/courses/{courseId}/publish",
                expect=(202,),
                flow=flow,
            )
            status = "RUNNING"
            while status not in ("PUBLISHED", "CHECKLIST_FAILED", "FAILED", "REJECTED"):
                flow.check_deadline(status)
                time.sleep(POLL_SECONDS)
                publication = self.call(
                    "GET",
                    f"/courses/{course_id}/publication",
                    name="/courses/{courseId}/publication",
                    flow=flow,
                )
                status = publication.get("status", "RUNNING")
            if status != "PUBLISHED":
                raise FlowError(f"publication ended {status}")


class Admin(Staff):
    """Watches the workflows (executions of each kind, the latest transactions) and approves the
    suite's pending publications."""

    weight = 1
    wait_time = between(2, 5)
    role = "ADMIN"

    @task(2)
    def list_executions(self) -> None:
        if self.token is None:
            return
        workflow = _pick.choice(("purchase", "publish", "certificate"))
        page = self.call("GET", f"/ops/executions?workflow={workflow}&limit=20", name="/ops/executions")
        if page and page["items"]:
            name = page["items"][0]["name"]
            self.call("GET", f"/ops/executions/{name}", name="/ops/executions/{executionName}")

    @task(2)
    def approve_load_courses(self) -> None:
        """An instructor's first publication waits for an admin: approve the suite's own courses
        (never anyone else's: a developer's pending approvals on `make dev` stay pending)."""
        if self.token is None:
            return
        page = self.call("GET", "/admin/approvals")
        for approval in (page or {}).get("items", []):
            if approval["courseTitle"].startswith(COURSE_TITLE) and approval["status"] == "PENDING":
                self.call(
                    "POST",
                    f"/admin/approvals/{approval['approvalId']}",
                    name="/admin/approvals/{approvalId}",
                    json={"decision": "approve"},
                    expect=(200, 409),  # 409: another admin decided it first
                )

    @task(1)
    def list_transactions(self) -> None:
        if self.token is not None:
            self.call("GET", "/transactions?status=COMPLETED&limit=20", name="/transactions?status=")


@events.init_command_line_parser.add_listener
def _no_options(parser: Any) -> None:
    """Nothing to add: the suite is configured by the environment (docs/performance.md)."""
