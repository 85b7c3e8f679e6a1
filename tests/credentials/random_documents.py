"""Random JSON-LD credentials for the differential canonicalization tests.

Every document uses bundled contexts only, so it is a candidate for the
pinned-context fast path. The claims mix what makes RDF canonicalization
hard. Text contains any Unicode character: control characters, quotes,
backslashes and characters beyond the Basic Multilingual Plane. Values are
integers, doubles, booleans, nulls, typed literals and language-tagged
strings, in nested objects, arrays and lists. Blank nodes are shared and
repeated, and identical sibling objects have blank nodes that only the
N-degree hash can tell apart.
"""

import random
import string
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from typing import Any

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
UNDEFINED_TERMS_V2 = "https://www.w3.org/ns/credentials/undefined-terms/v2"
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
TRAINING_V1 = "https://staff-passport.example/contexts/training/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
STATUS_LIST_V1 = "https://www.w3.org/ns/credentials/status/v1"
XSD = "http://www.w3.org/2001/XMLSchema#"

CONTEXT_CHOICES = (
    [CREDENTIALS_V2, UNDEFINED_TERMS_V2],
    [CREDENTIALS_V2, OPEN_BADGES_V3, TRAINING_V1, UNDEFINED_TERMS_V2],
    [CREDENTIALS_V2, STATUS_LIST_V1, UNDEFINED_TERMS_V2],
    [CREDENTIALS_V2, DATA_INTEGRITY_V2, UNDEFINED_TERMS_V2],
)

# Characters that canonical N-Quads escapes, and others that stress sorting
# and encoding: a private-use character sorts after every surrogate pair in
# UTF-16 order but before it in code point order.
# Control characters that canonical N-Quads writes as escapes. pyld 3.3
# writes all but tab, line feed and carriage return unescaped.
RDFC_ESCAPED_CONTROLS = (
    *(chr(code) for code in range(0x20) if code not in (0x09, 0x0A, 0x0D)),
    "\x7f",
)
SPECIAL_CHARACTERS = (
    "\t",
    "\n",
    "\r",
    '"',
    "\\",
    "\u00e9",
    "e\u0301",
    "\u200b",
    "\u2028",
    "\ue000",
    "\uffef",
    "\U0001f600",
    "\U00010348",
)
DATATYPES = ("string", "date", "dateTime", "integer", "decimal", "anyURI", "token")
LANGUAGES = ("en", "en-GB", "cy", "GA", "de-CH-1901")
TYPE_NAMES = ("Thing", "Record", "Assessment", "Person", "Place")
MAX_DEPTH = 4


def random_text(
    rng: random.Random,
    max_length: int = 12,
    *,
    controls: bool = True,
    high_bmp: bool = True,
) -> str:
    """Return text mixing ASCII with characters that need care.

    :param controls: include the control characters that pyld 3.3 does not
        escape as canonical N-Quads requires.
    :param high_bmp: include U+E000-U+FFFF, which rdf-canonize sorts after
        characters beyond U+FFFF (UTF-16 order) and RDFC-1.0 before them.
    """
    characters = []
    for _ in range(rng.randint(0, max_length)):
        roll = rng.random()
        if roll < 0.55:
            characters.append(rng.choice(string.ascii_letters + string.digits + " "))
        elif roll < 0.7 and controls:
            characters.append(rng.choice(RDFC_ESCAPED_CONTROLS))
        elif roll < 0.8:
            special = rng.choice(SPECIAL_CHARACTERS)
            characters.append(special if high_bmp or special < "\ue000" else "_")
        elif roll < 0.9:
            characters.append(chr(rng.randint(0xA0, 0xD7FF)))
        else:
            characters.append(chr(rng.randint(0x10000, 0x10FFFF)))
    return "".join(characters)


def random_number(rng: random.Random) -> int | float:
    """Return an integer or a double, including integral doubles and extremes."""
    number: int | float = rng.choice(
        (
            rng.randint(-1000, 1000),
            rng.randint(-(2**53), 2**53),
            10**21 * rng.choice((1, -1)),
            float(rng.randint(-50, 50)),
            rng.uniform(-1e6, 1e6),
            rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30),
            0.1,
            -0.0,
            5e-324,
            1.7976931348623157e308,
        )
    )
    return number


def jsonld_js_agrees(number: int | float) -> bool:
    """Return whether jsonld.js writes ``number`` as JSON-LD 1.1 specifies.

    jsonld.js 8 takes a number for a double only when JavaScript's
    ``String(number)`` has a decimal point, so 1e-7 and 5e-324 become the
    integer 0. It also rounds an exact tie at the sixteenth digit up, where
    Python and pyld round it to even.
    """
    if isinstance(number, bool) or not isinstance(number, float):
        return True
    if number.is_integer() or number == 0:
        return True
    if abs(number) < 1e-6:
        return False
    exact = Decimal(number)
    digits = Context(prec=16, rounding=ROUND_HALF_UP)
    return digits.plus(exact) == Context(prec=16, rounding=ROUND_HALF_EVEN).plus(exact)


def claim_name(rng: random.Random) -> str:
    """Return a property name that only the undefined-terms ``@vocab`` defines."""
    return "claim" + "".join(rng.choice(string.ascii_letters) for _ in range(3))


class DocumentGenerator:
    """Builds one random document; blank node labels are shared within it."""

    def __init__(
        self, rng: random.Random, *, controls: bool = True, jsonld_js: bool = False
    ) -> None:
        """Set up a generator.

        :param controls: see :func:`random_text`.
        :param jsonld_js: leave out what jsonld.js and rdf-canonize handle
            differently from the specifications: numbers that
            :func:`jsonld_js_agrees` rejects and text in U+E000-U+FFFF.
        """
        self.rng = rng
        self.controls = controls
        self.jsonld_js = jsonld_js
        self.blank_labels = [f"_:n{index}" for index in range(rng.randint(1, 4))]

    def identifier(self) -> str:
        rng = self.rng
        return rng.choice(
            (
                f"urn:uuid:{rng.getrandbits(128):032x}",
                f"did:example:{rng.randint(1, 5)}",
                f"https://example.org/items/{rng.randint(1, 5)}",
                rng.choice(self.blank_labels),
            )
        )

    def scalar(self) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            return self.text()
        if roll < 0.7:
            number = random_number(rng)
            while self.jsonld_js and not jsonld_js_agrees(number):
                number = random_number(rng)
            return number
        if roll < 0.85:
            return rng.choice((True, False))
        if roll < 0.92:
            return None
        return self.value_object()

    def text(self, max_length: int = 12) -> str:
        return random_text(
            self.rng, max_length, controls=self.controls, high_bmp=not self.jsonld_js
        )

    def value_object(self) -> dict[str, Any]:
        rng = self.rng
        if rng.random() < 0.5:
            return {"@value": self.text(), "@language": rng.choice(LANGUAGES)}
        datatype = XSD + rng.choice(DATATYPES)
        value: Any = self.text()
        if rng.random() < 0.3:
            value = rng.choice((True, rng.randint(-9, 9)))
        return {"@value": value, "@type": datatype}

    def node(self, depth: int) -> dict[str, Any]:
        rng = self.rng
        node: dict[str, Any] = {}
        if rng.random() < 0.5:
            node["id"] = self.identifier()
        if rng.random() < 0.5:
            names = rng.sample(TYPE_NAMES, rng.randint(1, 2))
            node["type"] = names if len(names) > 1 or rng.random() < 0.5 else names[0]
        for _ in range(rng.randint(0, 4)):
            node[claim_name(rng)] = self.value(depth + 1)
        return node

    def value(self, depth: int) -> Any:
        rng = self.rng
        roll = rng.random()
        if depth >= MAX_DEPTH or roll < 0.5:
            return self.scalar()
        if roll < 0.7:
            return self.node(depth)
        if roll < 0.8:
            # Identical siblings without ids: blank nodes that only the
            # N-degree hash can order. Their claims are scalars, because
            # twins inside twins make the work grow factorially.
            twin = self.node(MAX_DEPTH)
            twin.pop("id", None)
            return [twin, dict(twin), dict(twin)]
        if roll < 0.85:
            return {"@list": [self.scalar() for _ in range(rng.randint(0, 3))]}
        if roll < 0.9:
            return self.lookalikes()
        return [self.value(depth + 1) for _ in range(rng.randint(0, 3))]

    def lookalikes(self) -> list[Any]:
        """Return a scalar beside value objects that may or may not equal it.

        The JSON-LD node map merges equal values of one property but keeps
        values apart that only give the same RDF literal.
        """
        value = self.scalar()
        while value is None or isinstance(value, dict):
            value = self.scalar()
        datatype = XSD + (
            "boolean"
            if isinstance(value, bool)
            else "string"
            if isinstance(value, str)
            else "integer"
        )
        return [value, {"@value": value}, {"@value": value, "@type": datatype}]

    def credential(self) -> dict[str, Any]:
        rng = self.rng
        contexts = rng.choice(CONTEXT_CHOICES)
        document: dict[str, Any] = {
            "@context": list(contexts),
            "type": ["VerifiableCredential", rng.choice(TYPE_NAMES)],
            "issuer": rng.choice(
                (
                    f"did:example:{rng.randint(1, 5)}",
                    {"id": f"did:example:{rng.randint(1, 5)}", "name": self.text()},
                )
            ),
            "credentialSubject": self.node(0),
        }
        if rng.random() < 0.5:
            document["id"] = f"urn:uuid:{rng.getrandbits(128):032x}"
        if rng.random() < 0.5:
            document["validFrom"] = "2025-03-14T09:30:00Z"
        if rng.random() < 0.3:
            document["name"] = self.text()
        if TRAINING_V1 in contexts and rng.random() < 0.8:
            subject = document["credentialSubject"]
            subject["subjectCode"] = self.text(4)
            subject["completionDate"] = "2025-03-14"
            subject["cstfAligned"] = rng.choice((True, False))
        if rng.random() < 0.3:
            document["proof"] = {
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-rdfc-2022",
                "created": "2025-03-14T10:00:00Z",
                "verificationMethod": "did:example:1#key-1",
                "proofPurpose": "assertionMethod",
                "proofValue": "z" + self.text(6),
            }
        return document


def random_document(rng: random.Random, **options: bool) -> dict[str, Any]:
    """Return a random credential, or now and then a presentation of some.

    :param options: ``controls`` and ``jsonld_js``, as
        :class:`DocumentGenerator` takes them.
    """
    if rng.random() < 0.2:
        return {
            "@context": [CREDENTIALS_V2],
            "type": ["VerifiablePresentation"],
            "holder": "did:example:holder",
            "verifiableCredential": [
                DocumentGenerator(rng, **options).credential()
                for _ in range(rng.randint(1, 3))
            ],
        }
    return DocumentGenerator(rng, **options).credential()
