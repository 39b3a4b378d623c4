"""The course catalog's rules and persistence, one module per seam.

* :mod:`lms.courses.pricing`: what a course may cost (currencies, Stripe's minimum charge);
* :mod:`lms.courses.categories`: the category tree;
* :mod:`lms.courses.courses`: courses (drafts, who may manage them, what a caller sees);
* :mod:`lms.courses.lessons`: lessons, the course outline, and the course's total of lesson seconds.

(``workflows.catalog`` is the catalog of *workflows*; this package is the catalog of *courses*.)
"""
