"""Course publishing: the launch checklist, admin approvals and versioned snapshots.

``checklist`` holds the pure rules, ``snapshots`` the versions students read (the one read path),
``runs`` the publishing runs the workflow drives and the approvals admins decide.
"""
