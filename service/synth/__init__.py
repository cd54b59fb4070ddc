"""Synthetic enterprise and project libraries (and bank products) that look like Wuxi's.

Two uses:

- the committed demo library: ``run_synth(..., out=Path("seed/demo"))`` writes JSON shaped like
  the API's create bodies (``EnterpriseCreate``; projects with ``enterprise_credit_code`` in place
  of ``enterprise_id``; ``ProductCreate``);
- benchmarks: ``run_synth(..., out=None)`` bulk-loads N enterprises (with their qualifications,
  contacts and projects) and P products into a database that already holds the reference data:
  COPY on PostgreSQL, executemany on SQLite, one transaction per batch.

Deterministic: every value comes from ``random.Random`` instances seeded from ``seed`` (never the
global generator) and dates are relative to the fixed ``AS_OF`` date, not today, so the same seed
gives the same output on any day. Credit codes are a bijective function of the enterprise's index,
so they are unique within a run without draws and retries, and a re-run with the same seed finds
every code already loaded and adds nothing (an interrupted load resumes where it stopped).

Banks see an enterprise's private facts only with its consent: about two in five enterprises
gave it on a signed 入库申报 form (reference and date in the enterprise's fields, as the office
sends them when it records the form), a few declined on the form, the rest never recorded a
choice. About one project in twelve is on a key-project list (``listed_in``), which makes its
name, unit, year and investment public. Both are drawn from streams of their own, so adding
them changed no other value of any library.

Nothing here is a real enterprise or person: names are assembled from character pools, phone
numbers are random, e-mail addresses are under example.com; form references follow the
office's numbering style but are made up.

Where each part lives:

- ``generator``: ``Generator`` (an enterprise and its projects, chunk by chunk), the library in
  memory, ``AS_OF`` and the determinism contract (``CHUNK``);
- ``names``, ``qualifications``, ``consent``, ``projects``: an enterprise's name and contacts,
  its recognitions, its consent on the 入库申报 form, its projects and the key-project lists;
- ``codes``: credit codes; ``draws``: weighted choice and the small helpers;
- ``products``: bank products; ``reference``: the reference data the generator may use;
- ``vocabulary``: the tables of seed/synth/*.json (names, words, texts, weights);
- ``writing`` and ``loading``: the bulk load into a database; ``run``: `finmatch synth`."""

from service.synth.codes import _feistel as _feistel  # for the tests of the code bijection
from service.synth.codes import credit_code, org_check_character, organisation_code
from service.synth.consent import FORM_FIRST_DAY
from service.synth.draws import expiry
from service.synth.generator import (
    AS_OF,
    CHUNK,
    DEMO_SEED,
    Generator,
    default_project_count,
    generate_enterprises,
    generate_library,
)
from service.synth.loading import BATCH_SIZE, bulk_load, default_workers
from service.synth.products import generate_products
from service.synth.reference import Reference, load_reference, reference_from_db
from service.synth.run import _write_json as _write_json  # for the test of the files
from service.synth.run import run_synth
from service.synth.writing import NotSeeded

__all__ = [
    "AS_OF",
    "BATCH_SIZE",
    "CHUNK",
    "DEMO_SEED",
    "FORM_FIRST_DAY",
    "Generator",
    "NotSeeded",
    "Reference",
    "bulk_load",
    "credit_code",
    "default_project_count",
    "default_workers",
    "expiry",
    "generate_enterprises",
    "generate_library",
    "generate_products",
    "load_reference",
    "org_check_character",
    "organisation_code",
    "reference_from_db",
    "run_synth",
]
