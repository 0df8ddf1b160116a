"""The words no library knows the job of here: each list with the case it came from.

spaCy tells a noun from a pronoun and a name from a common word; it does not know that "the deadline" asks
for a date, or that a follow-up made of "the deadline" alone asks a detail of whatever the conversation is
about while "the dads" names a new subject. Those few words live here, in one place, as lemmas (spaCy's),
each list tested in other words than the case it came from (``tests/test_language.py``).
"""

# Nouns that ask for a detail of a subject rather than name one, with the kind of fact each asks for (the
# values of ``assistant.answer.questions.FactKind``), or "" for a detail of no one kind. A question asking "what X"
# or "what is the X" for one of these wants that kind of fact ("What's the closing date for Round 3?" wants a
# date; "What rent will tenants pay?" an amount); a follow-up made of them alone leans on the conversation
# ("contact details?", "when's the deadline?", "how much was the grant?", "opening hours?", "any figures?").
ASKED_NOUNS: dict[str, str] = {
    # how to reach someone
    "contact": "contact", "email": "contact", "e-mail": "contact", "phone": "contact", "telephone": "contact",
    "website": "contact", "link": "", "detail": "", "address": "place",
    # when
    # ("year" and "area" ask for no one kind: "which year of the promise", "the five priority areas")
    "date": "date", "deadline": "date", "day": "date", "month": "date", "year": "", "time": "time",
    "hour": "time", "opening": "time",
    # where
    "venue": "place", "location": "place", "place": "place", "town": "place", "city": "place", "area": "",
    "region": "",
    # how much money
    "cost": "amount of money", "budget": "amount of money", "amount": "amount of money",
    "money": "amount of money", "funding": "amount of money", "grant": "amount of money",
    "award": "amount of money", "fee": "amount of money", "price": "amount of money", "rent": "amount of money",
    "salary": "amount of money", "wage": "amount of money",
    # how many, how big a share, how long
    "number": "number", "total": "number", "age": "number", "range": "number", "figure": "number",
    "statistic": "number", "percentage": "figure", "proportion": "figure", "share": "figure",
    "rate": "figure", "length": "length of time", "duration": "length of time",
    # who
    "name": "name", "person": "person's name", "lead": "person's name", "chair": "person's name",
    # who may come ("what are the criteria?")
    "eligibility": "", "criterion": "", "data": "",
    # asking for more of the same
    "info": "", "information": "", "example": "", "more": "", "anything": "", "something": "", "thing": "",
    "news": "", "update": "",
}  # fmt: skip
DETAIL_NOUNS = frozenset(ASKED_NOUNS)
# Nouns that only name the kind of fact asked ("what amount", "what figure"): a sentence stating the fact need
# not repeat them, as it must repeat "rent" or "salary" ("What rent will tenants pay?" is not answered by what
# the building cost).
KIND_WORDS = frozenset({"amount", "money", "figure", "number", "total", "percentage", "proportion", "share"})
# The first of two nouns decides what is asked when it names a way to reach someone: a "phone number" asks
# for a contact, not a count.
REACHING = frozenset(noun for noun, kind in ASKED_NOUNS.items() if kind == "contact")
# Units of a length of time ("a two-year programme", "six weeks", "90 minutes"): the recogniser labels both a
# length and a point in time DATE or TIME, and a "when" is not answered by how long.
DURATION_UNITS = frozenset(
    "year years month months week weeks day days hour hours minute minutes fortnight fortnights".split()
)
# Shares said in words ("more than half of carers", "a third of schools"): the recogniser labels them CARDINAL.
FRACTIONS = frozenset("half halves third thirds quarter quarters fifth fifths tenth tenths".split())
# Words that say where something is ("held at the Burgh Hall", "based in Fife"): a name after one is a place,
# whatever the recogniser took it for (it labels some towns and halls as organisations).
PLACING = frozenset("in at near across from around throughout".split())
# Pronouns that negate what they stand in ("nothing had changed", "none of the carers were asked"): the parse
# marks "not", "n't" and "never" as negations, not these.
NEGATIVE_PRONOUNS = frozenset({"nothing", "nobody", "none", "noone"})
# Nouns by which a sentence names its source rather than what it says ("The notes say ...", "According to the
# passage, ..."): a model's sentence may use them though its passage never does.
SOURCE_NOUNS = frozenset({"note", "passage", "source"})
# Plural nouns a which-or-how-many question asks for the entries of a document's catalogue by ("how many
# organisations presented at Livingston?", "which grants went to Fife?", "list every project funded"), each with
# what it asks for: the projects ("project"), or whoever each entry is ("").
LISTED_NOUNS: dict[str, str] = {
    "organisation": "", "organization": "", "org": "", "group": "", "charity": "", "council": "",
    "partnership": "", "partner": "", "provider": "", "grantee": "", "recipient": "", "entry": "",
    "presenter": "", "grant": "", "award": "",
    "project": "project", "programme": "project", "program": "project", "initiative": "project",
}  # fmt: skip
