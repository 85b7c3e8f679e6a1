"""Leadership programmes: competencies, evidence, sign-off and credentials.

A programme's competency framework is a workflow definition with a
``programme`` section (see :mod:`programmes.framework`). The workflow engine
runs each learner's reviews, and sign-offs follow the framework's rules.
Each competency signed off, and the programme once completed, issues an
Open Badges 3.0 achievement credential into the learner's wallet through
the issuer.
Other packages call :mod:`programmes.service` only.
"""
