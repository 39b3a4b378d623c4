"""Course publishing: the launch checklist, admin approvals and versioned snapshots.

``checklist`` holds the pure rules, ``snapshots`` the versions students read (the one read path),
``publications`` the record of each course's latest run (claimed by the API, closed when its run
ended without closing it), ``steps`` what the workflow does (capture, check, review, publish) and
``approvals`` the admins' approvals, one kind of human task (:mod:`lms.human_tasks`).
"""
