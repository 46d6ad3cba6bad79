"""``is_question``: the author asks their network something (information, recommendations, help).

The rules were developed on the tweet-acts dev set (questions and requests) and on
``infra/rapport_local/data/target_posts.csv``. What they find in a post, with its words, is weighed by a
small logistic regression (``learned.py``, weights in ``question_model.json``, trained by
``rapport detect --train``); rhetorical questions and quotations stay out whatever the weights say.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from itertools import pairwise

from rapport.domain.detectors.learned import LogisticModel
from rapport.domain.detectors.text import HASHTAG_RE, MENTION_RE, SPACES_RE, clean, wordset

__all__ = ["MODEL_FILE", "is_question", "is_question_by_rules", "question_detector", "question_features"]

# A question inside quotes is someone else's question being reported, not the author asking.
_QUOTED_RE = re.compile(
    r"\"[^\"]{2,}\"|\u201c[^\u201d]{2,}\u201d|\u00ab[^\u00bb]{2,}\u00bb|(?<!\w)'[^']{4,}'(?!\w)"
)
# "(most? all?)", "(?)": a hedge inside parentheses, not a question.
_PAREN_HEDGE_RE = re.compile(r"\([^()]{0,25}\?[^()]{0,10}\)")


class _Rules:
    """Regexes searched as two unions: those anchored at "^" (tried at position 0 only) and the others.

    One big alternation with "^" branches is retried at every position of the text; splitting them
    makes ``search`` several times faster, which matters because ``is_question`` sees every post.
    """

    __slots__ = ("_anchored", "_floating")

    def __init__(self, patterns: list[str]) -> None:
        anchored = [p for p in patterns if p.startswith("^")]
        floating = [p for p in patterns if not p.startswith("^")]
        self._anchored = re.compile("|".join(f"(?:{p})" for p in anchored)) if anchored else None
        self._floating = re.compile("|".join(f"(?:{p})" for p in floating)) if floating else None

    def search(self, text: str) -> bool:
        if self._anchored is not None and self._anchored.match(text):
            return True
        return self._floating is not None and self._floating.search(text) is not None


_WH = wordset(
    "what what's whats who who's whos whom whose where where's wheres when when's why how how's which wat wut"
)
_AUX = wordset(
    "do does did is are was were can could will would should shall may might have has had am r ru dose"
)
# Sentence-initial negated auxiliaries ("Isn't it amazing?", "Don't you think...") nearly always
# introduce a rhetorical or confirmation question.
_NEG_AUX = wordset(
    "isn't aren't wasn't weren't don't doesn't didn't can't won't wouldn't couldn't shouldn't "
    "haven't hasn't ain't isnt arent dont doesnt didnt cant wont wouldnt couldnt shouldnt"
)
# Words that, after a sentence-initial auxiliary, make it a question even without "?"
# ("@x do you ship to Canada", "are there any docs on this").
_SUBJECTS = wordset(
    "you u ya y'all yall ye anyone anybody someone somebody any there i we they he she it this that "
    "these those people folks everyone ur your"
)
_OPEN_SUBJECTS = wordset("there anyone anybody someone somebody you u ya y'all yall")
# Interjections that can precede the real start of a question: "Hey, can anyone ...", "So what ...".
_OPENERS = wordset(
    "hey hi hello so ok okay oh also and but lol quick honest genuine serious question q random "
    "twitter folks friends people everyone y'all yall guys peeps fam hivemind ps btw um umm hmm well "
    "real dear just wait then"
)
_SECOND_PERSON_RE = re.compile(r"\b(?:you|your|yours|u|ur|ya|y'?all|yourself|you'?re|you'?ve|you'?d)\b")
_AUDIENCE_RE = re.compile(r"\b(?:anyone|anybody|someone|somebody|any ?one)\b")
_ASK_NOUNS_RE = re.compile(
    r"\b(?:recommendations?|recs?|suggestions?|advice|tips?|ideas|pointers|thoughts|opinions?|"
    r"input|feedback|experiences?|favou?rites?|alternatives?|any chance|any idea|is it possible|"
    r"is there a way)\b"
)

# Requests for information or help that need no "?". The tweet-acts corpus also counts plain
# requests ("please RT", "follow me pls") as asking the network, and for Rapport they are openings
# to help a target, so "please" alone is a request unless it is one of the forms in _NOT_REQUEST_RE.
_REQUEST_PATTERNS = [
    # "Anyone know ...", "does anybody have ...", "can someone point me to ..."
    r"^(?:(?:does|do|can|could|would|will|has|have|did|is)\s+)?(?:anyone|anybody|someone|somebody|any one)"
    r"\s+(?:here\s+|out there\s+|please\s+|pls\s+)?(?:know|knows|recommend|suggest|have|has|got|use|used|"
    r"tried|seen|heard|help|tell|explain|point|share|send|want|wanna|familiar|able|working|"
    r"running|using|remember|recall|fancy|ever)\b",
    r"\b(?:can|could|would|will)\s+(?:someone|somebody|anyone|anybody|you|u|y'?all)\s+(?:please\s+|pls\s+)?"
    r"(?:point|recommend|suggest|help|tell|explain|share|send|show|review|let|advise|clarify)\b",
    r"\b(?:someone|somebody|anyone)\s+(?:please\s+|pls\s+)?(?:tell|explain|help|show|recommend)\b",
    # The author is seeking: "Looking for a good book on X", "in the market for a new laptop".
    r"^(?:i'?m\s+|i am\s+|still\s+|also\s+|currently\s+)?(?:looking for|searching for|hunting for|"
    r"on the hunt for|in the market for|trying to find|in search of|seeking)\b",
    r"\b(?:any|got any|have any|need|needing|want|would love|would appreciate|welcome)\s+(?:\w+\s+)?"
    r"(?:recommendations?|recs|suggestions?|advice|tips|pointers|ideas|input|help|feedback|thoughts)\b",
    r"\b(?:recommend|suggest|point|send|pass)\s+me\b",
    r"\bpoint me (?:to|at|in|towards)\b",
    r"\b(?:i|we|i'?d|we'?d)\s+(?:\w+\s+)?(?:want|need|like|love|wanna|would like|would love)\s+to\s+"
    r"(?:know|find out|hear)\b",
    r"\b(?:wonder|wondering|curious)\s+(?:if|whether)\s+(?:anyone|anybody|someone|somebody|you|u|y'?all)\b",
    r"^(?:i'?m\s+|i am\s+|was\s+|just\s+)?(?:wondering|curious)\s+(?:if|whether|what|how|why|who|where|when|"
    r"which|about)\b",
    r"\bquestion (?:is|was)\s*[:,]?\s+(?:what|who|where|when|why|how|which|whether|if)\b",
    r"\b(?:i have|i've got|i got|got|have|quick|one|a few|some)\s+(?:a\s+)?"
    r"(?:quick\s+|small\s+|silly\s+|dumb\s+|stupid\s+|noob\s+|random\s+)?questions?\b"
    r"(?! for (?:him|her|them))",
    r"\bwhat do (?:you|y'?all|u|people|folks|others|we) think\b",
    r"\b(?:lmk|let me know|let us know)\b",
    r"\b(?:help me|help us|need (?:your |some )?help|any help|sos)\b",
    r"^help\b",
    r"\b(?:please|pls|plz|plse|pleas+e+|pl+e+a+s+e+)\b",
    r"^(?:please\s+|pls\s+|plz\s+)?(?:rt|retweet|share|spread the word|signal boost|boost)\b(?!\s+if)",
    r"^(?:tell|show|teach|give|remind)\s+me\b",
    r"\bwhat'?s (?:your|ur|the best|a good)\b",
    r"\bif (?:someone|somebody|anyone|anybody) (?:could|can|would|knows?|has|have)\b",
    r"\bif (?:you|u) (?:could|can|would)\b",
]
_REQUEST_RE = _Rules(_REQUEST_PATTERNS)
# Things that look like requests but are not asking anything of the network.
_NOT_REQUEST_RE = re.compile(
    r"\b(?:oh please|please note|please stop|please don'?t|please never|(?:we'?re|we are|is|are) "
    r"(?:hiring|looking for)|join (?:us|our team)|apply (?:now|here|today)|"
    r"let me know if you (?:need|want|have)|tell me about it|tell me (?:you|that|again|it'?s|this is)|"
    r"i dare you|(?:rt|retweet|like|share|fav) if|don'?t (?:tell|let) me|"
    r"if (?:anyone|anybody|someone|somebody) (?:needs|wants|is|was|asks|thinks|tells|says)|"
    r"(?:god|allah|lord|heaven|jesus|christ) help|(?:please )?excuse me)\b"
)

_HIRING_RE = re.compile(
    r"\b(?:hiring|join (?:us|our team)|apply (?:now|here|today)|job opening|open (?:role|position)s?)\b"
)
_SEEKING_RE = re.compile(r"\b(?:looking for|searching for|seeking|hunting for|in search of)\b")

# Rhetorical forms: the author does not expect an answer.
_RHETORICAL_PATTERNS = [
    r"\bwho else\b",
    # Complaints dressed as questions: "Why does nobody talk about how bad YAML is?".
    r"\bwhy (?:(?:does|do|did|is|are|has|have|will|would|can'?t|won'?t|doesn'?t|don'?t|isn'?t) )?"
    r"(?:nobody|no one|no-one|noone)\b",
    r"\bwhy is it (?:so|always) (?:hard|difficult|impossible)\b",
    r"\bwho (?:thought|decided) (?:this|that|it) (?:was|is|would be) a good idea\b",
    r"\bwhen will (?:people|they|we|folks|companies) (?:ever )?(?:learn|stop|realise|realize|understand)\b",
    r"\bhow (?:is|are) (?:this|that|it|these|those) still a thing\b",
    r"\banyone else\b",
    r"\b(?:why|how) (?:do|did|would|should|can|could) (?:i|we) (?:even|ever|still|always)\b",
    r"\b(?:do|does|did|can|could) (?:you|u|they|he|she|we|i) even\b",
    # "So are you!", "Neither do I": agreement, not a question.
    r"^(?:and )?(?:so|neither|nor) (?:are|am|do|did|does|is|have|has|was|were|can|will) "
    r"(?:you|u|i|we|they|he|she)\b",
    r"\bwho (?:cares|knew|needs|doesn'?t|wouldn'?t|does that|would have|could have|would've|am i to)\b",
    r"\bwhat (?:more|else) (?:can|could|would) (?:you|one|i|we|anyone) (?:ask|want|need)",
    r"^how (?:cute|cool|awesome|amazing|great|sad|funny|hard|bad|crazy|lucky|beautiful|good|sweet|nice|"
    r"adorable|ridiculous|stupid|dumb|insane|wild|fun|gorgeous|perfect|weird|rude|lovely|wonderful|"
    r"incredible|dare|on earth|in the world|the hell|the fuck|tf)\b",
    r"\b(?:are|r) (?:you|u) (?:kidding|serious|joking|for real|insane|crazy|mad|high)\b",
    r"\b(?:am i|is it) (?:the only one|just me)\b",
    r"\bwhat (?:could|can) (?:possibly )?go wrong\b",
    r"^(?:guess what|you know what|know what|what gives)$",
    r"\bwhat'?s not to (?:love|like)\b",
    r"^(?:why not|why bother|so what|what now|what else|now what|and|or)$",
    r"\bwhat a (?:time|day|world|joke|shame)\b",
    r"\banyway$",
    r"^can we (?:just |please |all )?(?:talk about|appreciate|acknowledge)\b",
    r"\b(?:can|could|would) (?:you|u|anyone) (?:even )?believe\b",
    r"\b(?:wtf|wth|omfg|omg|lmao|ffs|smh)\b",
    r"\bwhat the (?:hell|heck|fuck|actual)\b",
    r"\b(?:did you know|do you remember|remember when|ever wonder(?:ed)?|tired of|struggling with|sick of|"
    r"fed up with)\b",
    # Marketing hooks: "Want to learn X? Read our guide".
    r"^(?:want|wanna|need|looking) (?:to )?(?:know|learn|more|a|an|to get)\b",
    r"^(?:think|remember|imagine|believe|feel like|love|hate|missed)\b",
    r"^(?:because|bc|coz|cause)\b",
    r"^(?:can|may|could|should|must|let) (?:i|we) (?:just|please|also|now) "
    r"(?:say|add|point out|mention|tell)\b",
    r"^(?:did|have) i (?:mention|told|tell|say)\b",
    r"\bhow (?:is|was) (?:this|that|it) (?:even )?"
    r"(?:possible|real|legal|allowed|ok|okay|a thing|fair|right)\b",
    r"\bwhat is (?:wrong with|happening to|this world)\b",
    r"\bis (?:this|that|it) (?:a joke|real life|for real|even real)\b",
]
_RHETORICAL_RE = _Rules(_RHETORICAL_PATTERNS)
# A tag appended to a statement asks for agreement, not information: "She's great, isn't she?".
_TAG_QUESTION_RE = re.compile(
    r"(?:,|\s)\s*(?:right|eh|no|yes|huh|innit|amirite|ya know|you know|isn'?t (?:it|she|he|that|this)|"
    r"aren'?t (?:they|we|you)|don'?t (?:you|they|we) think|wouldn'?t you (?:say|agree)|didn'?t (?:i|it|they|"
    r"he|she)|doesn'?t (?:it|he|she)|won'?t (?:it|they)|is (?:she|he|it)|ok|okay|yeah|true|agreed)\s*$"
)
# Sentences right after a question that answer it ("Anyone surprised? No.") make it rhetorical.
_SELF_ANSWER_RE = re.compile(
    r"^(?:no|nope|nah|yes|yep|yeah|of course|obviously|exactly|answer|a|short answer|"
    r"spoiler|hint|none|nobody|nothing|never|neither|hell no|duh|surprise)\b"
)
# "Why X? Because Y." (a "because" after other questions usually explains why the author asks).
_BECAUSE_RE = re.compile(r"^(?:because|bc|coz|cause)\b")
# "Quick question for the infra folks: ...", "Poll-ish question: ...".
_QUESTION_INTRO_RE = re.compile(r"\bquestions?\b[^:?.!]{0,30}:")
_CHOICE_RE = re.compile(r"^\w+(?:\s+\w+){0,2}\s+or\s+\w+(?:\s+\w+){0,2}$")
_ENDS_WITH_WH_RE = re.compile(
    r"\b(?:like|or|about|for|with|from|is|was) (?:what|who|where|when|why|which|how)$"
)
_TAGS_ONLY_RE = re.compile(r"^(?:[#@]\w+[\s.!?,]*)+$")
_SENTENCE_RE = re.compile(r"[^.!?\u2026]+(?:[.!?\u2026]+|$)")
_CLAUSE_SPLIT_RE = re.compile(r"\s*(?:[,;:]|\s[-\u2013\u2014]+\s)\s*")
_WORD_RE = re.compile(r"[a-z0-9']+")
_TITLE_WORD_RE = re.compile(r"[A-Za-z][\w']*")
# Shared articles: "Headline - Source https://...", "... via @site".
_HEADLINE_SOURCE_RE = re.compile(
    r"(?:\s[-|\u2013\u2014]\s+[A-Z][\w.]*(?:\s+[A-Z][\w.]*){0,4}\s*$|\bvia\s+@\w+)"
)
# Quotations: "... ~ Ursula K. Le Guin", "... - Octavia Butler, Parable", "#quote".
_ATTRIBUTION_RE = re.compile(
    r"[?.!\"\u201d']\s*(?:~|\u2014|\u2015|--?)\s*[A-Z][\w.']*(?:\s+[A-Z][\w.']*){0,4}\s*(?:[,~#(]|$)"
    r"|#quotes?\b|#quoteoftheday\b|#quotes?of"
)
_SMALL_WORDS = wordset("a an the of in on at to for and or but by with from as is vs via de la")


@dataclass(frozen=True, slots=True)
class _Sentence:
    raw: str
    punct: str  # lowercased, mentions and '#' removed, punctuation kept
    lower: str  # the words joined by single spaces, leading openers ("hey", "so", ...) skipped
    words: tuple[str, ...]
    clauses: tuple[tuple[str, ...], ...]  # words of each clause, leading openers skipped
    terminator: str


def _skip_openers(words: tuple[str, ...]) -> tuple[str, ...]:
    i = 0
    while i < len(words) - 1 and words[i] in _OPENERS:
        i += 1
    return words[i:]


def _sentences(body: str) -> list[_Sentence]:
    out: list[_Sentence] = []
    for match in _SENTENCE_RE.finditer(body):
        raw = match.group(0).strip()
        if _TAGS_ONLY_RE.match(raw):
            continue  # "#ReTweet #NinthCircuit": labels, not a sentence
        stripped = raw.rstrip(".!?\u2026 ")
        terminator = raw[len(stripped) :].strip()
        lower = HASHTAG_RE.sub(r"\1", stripped.lower())
        lower = SPACES_RE.sub(" ", MENTION_RE.sub(" ", lower)).strip(" ,:;-")
        words = tuple(_WORD_RE.findall(lower))
        if not words:
            continue
        clauses = tuple(
            c
            for c in (_skip_openers(tuple(_WORD_RE.findall(part))) for part in _CLAUSE_SPLIT_RE.split(lower))
            if c
        )
        out.append(_Sentence(raw, lower, " ".join(_skip_openers(words)), words, clauses, terminator))
    return out


def _is_title_case(raw: str) -> bool:
    """'Is AI Overhyped For Startups' style: most content words capitalised (a shared headline)."""
    words = [w for w in _TITLE_WORD_RE.findall(raw) if w.lower() not in _SMALL_WORDS]
    if len(words) < 4:
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised / len(words) >= 0.75


def _clause_kind(words: tuple[str, ...], *, strict: bool) -> str | None:
    """'wh' / 'aux' when the clause opens like a question, 'neg' for negated auxiliaries.

    ``strict`` (no "?" typed) also requires a subject after the auxiliary or an auxiliary after the
    wh-word: "when you ..." and "what amazing stories ..." are not questions.
    """
    first = words[0]
    second = words[1] if len(words) > 1 else ""
    if first in _NEG_AUX:
        return "neg"
    if first in _WH:
        # "How to ..." / "What to ..." open how-to titles, not questions to the network.
        if second == "to":
            return None
        if strict and not (second in _AUX or second in _NEG_AUX or first.endswith("'s") or second in _WH):
            return None
        return "wh"
    # "May you rest in peace" is a wish: only count "may" when the sentence has a "?".
    if first in _AUX and second != "not" and (not strict or (second in _SUBJECTS and first != "may")):
        return "aux"
    return None


def _kind(s: _Sentence, *, strict: bool) -> str | None:
    first = _clause_kind(s.clauses[0], strict=strict) if s.clauses else None
    if first is not None or strict:
        return first
    # "I have a question: what should ...", "If true, who created ...": the question is a later clause.
    for clause in s.clauses[1:]:
        kind = _clause_kind(clause, strict=False)
        if kind == "wh" or (kind == "aux" and clause[1:2] and clause[1] in _SUBJECTS):
            return kind
    return None


def _rhetorical(s: _Sentence) -> bool:
    # Checked with and without the leading openers: "So what?" and "Hey, why do I even bother?".
    return bool(_RHETORICAL_RE.search(s.lower) or _RHETORICAL_RE.search(" ".join(s.words)))


def _addressed(lower: str) -> bool:
    return bool(_SECOND_PERSON_RE.search(lower) or _AUDIENCE_RE.search(lower))


def _asks(s: _Sentence, *, has_url: bool, is_reply: bool, single: bool) -> bool:
    """Whether one sentence typed with '?' asks the reader something."""
    lower = s.lower
    if _rhetorical(s) or _TAG_QUESTION_RE.search(lower):
        return False
    request = bool(_REQUEST_RE.search(lower)) and not _NOT_REQUEST_RE.search(lower)
    kind = _kind(s, strict=False)
    if kind == "neg":
        return request
    cue = _addressed(lower) or bool(_ASK_NOUNS_RE.search(lower))
    # "?!" / "!?" mark an exclamation dressed as a question ("Who does that?!").
    if "!" in s.terminator:
        return request or (cue and kind is not None)
    if kind is None:
        # Declarative or fragment questions ("Antarctica?", "Tear gas?") ask something when they
        # address the reader ("you have dogs or cats?", "thoughts?"), offer a choice, end on a
        # wh-word ("movies like what?"), or are a reply to someone (a question put to them).
        return (
            cue
            or request
            or bool(_CHOICE_RE.match(" ".join(s.clauses[-1])) or _ENDS_WITH_WH_RE.search(lower))
            or bool(_QUESTION_INTRO_RE.search(s.punct))
            or (is_reply and len(s.words) >= 3)
        )
    if len(s.words) == 1 and not is_reply:
        return False  # a lone "Why?" in a post is emphasis, not a request for an answer
    # A lone question next to a link with nobody addressed is usually the article's headline.
    if has_url and not is_reply and not cue and single:
        return False
    return not (has_url and not is_reply and _is_title_case(s.raw))


def _answered(sentences: list[_Sentence], idx: int) -> bool:
    """The author answers their own question ("Anyone surprised? Anyone? No.")."""
    why = sentences[idx].words[0] == "why"
    for nxt in sentences[idx + 1 : idx + 3]:
        first = " ".join(nxt.words)
        if _SELF_ANSWER_RE.match(first) or (why and _BECAUSE_RE.match(first)):
            return True
        if "?" not in nxt.terminator:
            return False
    return False


@dataclass(frozen=True, slots=True)
class _Post:
    """A post read once for both the rules and the learned part."""

    words: tuple[str, ...]  # every word of the cleaned body, with "?" and "!" kept as words
    sentences: list[_Sentence]
    has_url: bool
    is_reply: bool
    quoted: bool  # it reports someone else's words in quotes
    attributed: bool  # a quotation ("... ~ Author", "#quote"): its question is not the author's
    headline: bool  # a shared article's headline ("Why X - Source https://...")
    hiring: bool


_FEATURE_WORD_RE = re.compile(r"[a-z0-9']+|[?!]")


def _read(text: str) -> _Post:
    body, has_url, is_reply = clean(text)
    body = _PAREN_HEDGE_RE.sub(" ", body)
    unquoted = _QUOTED_RE.sub(" ", body)
    return _Post(
        # Quoted words stay among the words: a term in quotes inside a question still shows its topic.
        words=tuple(_FEATURE_WORD_RE.findall(body.lower())),
        sentences=_sentences(unquoted),
        has_url=has_url,
        is_reply=is_reply,
        quoted=unquoted != body,
        attributed=_ATTRIBUTION_RE.search(unquoted) is not None,
        headline=has_url and _HEADLINE_SOURCE_RE.search(unquoted) is not None,
        hiring=_HIRING_RE.search(unquoted.lower()) is not None,
    )


def _rules_say_question(post: _Post) -> bool:
    if post.attributed:
        return False  # a quotation: the question (if any) is not the author's
    sentences = post.sentences
    has_url, is_reply, headline = post.has_url, post.is_reply, post.headline
    n_questions = sum(1 for s in sentences if "?" in s.terminator)
    single = n_questions == 1 and len(sentences) <= 2
    for idx, s in enumerate(sentences):
        if "?" in s.terminator:
            # A shared headline ("Why X Will Keep Doing Y - Source") asks nothing even when phrased as one.
            if headline and not _addressed(s.lower):
                continue
            if _answered(sentences, idx):
                continue
            if _asks(s, has_url=has_url, is_reply=is_reply, single=single):
                return True
            continue
        # "We're hiring! Looking for a platform engineer": a job ad seeks applicants, it asks nothing.
        if _NOT_REQUEST_RE.search(s.lower) or _rhetorical(s) or (post.hiring and _SEEKING_RE.search(s.lower)):
            continue
        if _REQUEST_RE.search(s.lower):
            return True
        # Questions typed without "?": "@x who are you rooting for", "are there any docs on this".
        kind = _kind(s, strict=True)
        if kind not in ("wh", "aux") or headline or _is_title_case(s.raw):
            continue
        # In a reply the question is put to the person replied to; elsewhere it must address someone.
        if is_reply or _addressed(s.lower) or (kind == "aux" and s.clauses[0][1] in _OPEN_SUBJECTS):
            return True
    return False


def _not_asking(post: _Post) -> bool:
    """Rapport's own line, kept whatever the learned part says: quotations, and posts whose every
    question is rhetorical or answered by the author, with no request.

    Tag questions ("it's a prequel, right?") are left to the weights: put to someone in a reply they
    often do ask for an answer.
    """
    if post.attributed:
        return True
    asked = [(i, s) for i, s in enumerate(post.sentences) if "?" in s.terminator]
    if not asked or any(_REQUEST_RE.search(s.lower) for s in post.sentences):
        return False
    return all(_rhetorical(s) or _answered(post.sentences, i) for i, s in asked)


def _sentence_features(post: _Post) -> set[str]:
    """What the rules see, as features: the shape of each sentence and which rules fire on it."""
    found: set[str] = set()
    sentences = post.sentences
    n_questions = sum(1 for s in sentences if "?" in s.terminator)
    found.add(f"s:questions={min(n_questions, 3)}")
    found.add(f"s:sentences={min(len(sentences), 4)}")
    single = n_questions == 1 and len(sentences) <= 2
    for idx, s in enumerate(sentences):
        if "?" in s.terminator:
            found.add(f"q:kind={_kind(s, strict=False)}")
            found.add(f"q:first={s.words[0]}")
            if len(s.words) > 1:
                found.add(f"q:first2={s.words[0]} {s.words[1]}")
            found.add(f"q:length={min(len(s.words) // 4, 5)}")
            checks = {
                "rhetorical": _rhetorical(s),
                "tag": _TAG_QUESTION_RE.search(s.lower) is not None,
                "answered": _answered(sentences, idx),
                "exclaimed": "!" in s.terminator,
                "addressed": _addressed(s.lower),
                "title_case": _is_title_case(s.raw),
                "asks": _asks(s, has_url=post.has_url, is_reply=post.is_reply, single=single),
            }
        else:
            found.add(f"s:kind={_kind(s, strict=True)}")
            checks = {
                "request": _REQUEST_RE.search(s.lower) is not None,
                "not_request": _NOT_REQUEST_RE.search(s.lower) is not None,
                "rhetorical": _rhetorical(s),
            }
        prefix = "q" if "?" in s.terminator else "s"
        found.update(f"{prefix}:{name}" for name, hit in checks.items() if hit)
    return found


def _features(post: _Post, rules: bool) -> frozenset[str]:
    words = post.words
    found = _sentence_features(post)
    flags = {
        "rules": rules,
        "question_mark": "?" in words,
        "ends_with_question_mark": bool(words) and words[-1] == "?",
        "link": post.has_url,
        "reply": post.is_reply,
        "quoted": post.quoted,
        "attributed": post.attributed,
        "headline": post.headline,
    }
    found.update(f"p:{name}" for name, hit in flags.items() if hit)
    if words:
        found.add(f"f:{words[0]}")
    if len(words) > 1:
        found.add(f"f2:{words[0]} {words[1]}")
    # One feature per combination: a "?" weighs differently in a reply, next to a link, or when the
    # rules already said no, which single weights cannot express.
    found.add("x:" + "".join("1" if flags[f] else "0" for f in ("question_mark", "link", "reply", "rules")))
    found.update(f"w:{w}" for w in words)
    for s in post.sentences:
        if "?" in s.terminator:
            found.update(f"qw:{w}" for w in s.words)
    found.update(f"b:{a} {b}" for a, b in pairwise(words))
    return frozenset(found)


def question_features(text: str) -> frozenset[str]:
    """The names of the features the learned part weighs for ``text`` (for training and inspection)."""
    post = _read(text)
    return _features(post, _rules_say_question(post))


def is_question_by_rules(text: str) -> bool:
    """The rules alone, without the learned weights (the baseline the detector is measured against)."""
    return _rules_say_question(_read(text))


def question_detector(model: LogisticModel) -> Callable[[str], bool]:
    """``is_question`` with other weights: what cross-validation measures on folds ``model`` never saw."""

    def detect(text: str) -> bool:
        post = _read(text)
        if not post.sentences or _not_asking(post):
            return False
        return model.decide(_features(post, _rules_say_question(post)))

    return detect


MODEL_FILE = "question_model.json"


@cache
def _shipped_detector() -> Callable[[str], bool]:
    # Read once per process (a Lambda cold start), on first use: training runs without a model file.
    text = files("rapport.domain.detectors").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return question_detector(LogisticModel.from_json(text))


def is_question(text: str) -> bool:
    """True when the author asks their network something: information, recommendations or help.

    The rules above read the post; a logistic regression trained by ``rapport detect --train``
    (``question_model.json``) weighs what they found with the post's words. Quotations and posts
    whose every question is rhetorical stay out whatever the weights say.
    """
    return _shipped_detector()(text)
