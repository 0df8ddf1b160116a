"""The words no library knows the job of here: each list with the case it came from.

spaCy tells a noun from a pronoun and a name from a common word; it does not know that "the deadline" asks
for a detail of whatever the conversation is about while "the dads" names a new subject. Those few words live
here, in one place, as lemmas (spaCy's), each list tested in other words than the case it came from
(``tests/test_language.py``).
"""

# Nouns that ask for a detail of a subject rather than name one: a follow-up made of them alone leans on the
# conversation. Cases: "contact details?" and "when's the deadline?" after an answer about one project; "how
# much was the grant?" after a funding table.
DETAIL_NOUNS = frozenset(
    {
        # how to reach someone
        "contact", "detail", "email", "e-mail", "phone", "telephone", "number", "address", "website", "link",
        # when and where
        "date", "deadline", "time", "day", "year", "month", "venue", "location", "place",
        # how much
        "cost", "budget", "amount", "money", "funding", "grant", "award", "fee", "price",
        # who
        "name", "person", "lead", "chair",
        # who may come, and when it is open ("what age range?", "opening hours?", "is there a waiting list?")
        "age", "range", "eligibility", "criterion", "hour", "opening", "list", "waiting", "space",
        # evidence asked of what was just described ("any figures?")
        "figure", "statistic", "data",
        # asking for more of the same
        "info", "information", "example", "more", "anything", "something", "thing", "bit",
    }
)  # fmt: skip
