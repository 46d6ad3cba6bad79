"""Two text detectors the relationship engine relies on.

``is_question``: the author asks their network something (information, recommendations, help).
``is_thanks``: the post thanks *us* (the caller guarantees it mentions us or replies to one of our posts).

Both are small, explainable rule sets: pure stdlib, regexes compiled once at import, no I/O. They run
in a Lambda on every post read, so they must be fast and predictable. The rules were developed on the
tweet-acts dev set (questions/requests) and on ``infra/rapport_local/data/target_posts.csv``; see
``rapport_local.detect_eval`` for the measured precision/recall against a keyword baseline.
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass

__all__ = ["Detection", "detect", "is_question", "is_thanks"]


@dataclass(frozen=True, slots=True)
class Detection:
    """Both verdicts for one post."""

    question: bool
    thanks: bool


def detect(text: str, me_username: str | None = None) -> Detection:
    return Detection(question=is_question(text), thanks=is_thanks(text, me_username))


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# --------------------------------------------------------------------------------------------------
# Normalisation shared by both detectors
# --------------------------------------------------------------------------------------------------

_URL_RE = re.compile(r"(?:https?://|www\.)\S*", re.IGNORECASE)
# Truncated links at the end of retweets ("https://t.co/ab\u2026", "http://t.co/3", "https:").
_TRUNCATED_URL_RE = re.compile(r"\bhttps?:?/{0,2}\S*$", re.IGNORECASE)
_RT_PREFIX_RE = re.compile(r"^\s*RT\s+@\w+\s*:?\s*", re.IGNORECASE)
# "So sad. RT @bob: ..." quotes another post inline.
_INLINE_RT_RE = re.compile(r"\bRT\s*\"?@\w+\s*:?", re.IGNORECASE)
_LEADING_MENTIONS_RE = re.compile(r"^(?:\s*\.?@\w+[,:]?)+\s*")
# Hashtags and mentions before the first word ("#GifHistory Where is this from?") are labels.
_LEADING_TAGS_RE = re.compile(r"^(?:\s*[#@]\w+[,:]?)+\s+(?=\S)")
_MENTION_RE = re.compile(r"@(\w{1,30})")
_HASHTAG_RE = re.compile(r"#(\w+)")
_SPACES_RE = re.compile(r"\s+")
# A question inside quotes is someone else's question being reported, not the author asking.
_QUOTED_RE = re.compile(
    r"\"[^\"]{2,}\"|\u201c[^\u201d]{2,}\u201d|\u00ab[^\u00bb]{2,}\u00bb|(?<!\w)'[^']{4,}'(?!\w)"
)
# "(most? all?)", "(?)": a hedge inside parentheses, not a question.
_PAREN_HEDGE_RE = re.compile(r"\([^()]{0,25}\?[^()]{0,10}\)")


def _clean(text: str) -> tuple[str, bool, bool]:
    """Return (body, has_url, is_reply): the text without RT prefix, links and leading mentions."""
    text = html.unescape(text).replace("\\u2026", "\u2026")
    text = _RT_PREFIX_RE.sub("", text)
    text = _INLINE_RT_RE.sub(" ", text)
    has_url = bool(_URL_RE.search(text))
    text = _URL_RE.sub(" ", text)
    text = _TRUNCATED_URL_RE.sub(" ", text)
    tags = _LEADING_TAGS_RE.match(text)
    # Addressed to someone when it opens with a mention (after optional hashtags: "#tag @bob what ...").
    is_reply = tags is not None and "@" in tags.group(0)
    text = _LEADING_MENTIONS_RE.sub("", text)
    text = _LEADING_TAGS_RE.sub("", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return _SPACES_RE.sub(" ", text).strip(), has_url, is_reply


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


# --------------------------------------------------------------------------------------------------
# is_question
# --------------------------------------------------------------------------------------------------

_WH = _wordset(
    "what what's whats who who's whos whom whose where where's wheres when when's why how how's which wat wut"
)
_AUX = _wordset(
    "do does did is are was were can could will would should shall may might have has had am r ru dose"
)
# Sentence-initial negated auxiliaries ("Isn't it amazing?", "Don't you think...") nearly always
# introduce a rhetorical or confirmation question.
_NEG_AUX = _wordset(
    "isn't aren't wasn't weren't don't doesn't didn't can't won't wouldn't couldn't shouldn't "
    "haven't hasn't ain't isnt arent dont doesnt didnt cant wont wouldnt couldnt shouldnt"
)
# Words that, after a sentence-initial auxiliary, make it a question even without "?"
# ("@x do you ship to Canada", "are there any docs on this").
_SUBJECTS = _wordset(
    "you u ya y'all yall ye anyone anybody someone somebody any there i we they he she it this that "
    "these those people folks everyone ur your"
)
_OPEN_SUBJECTS = _wordset("there anyone anybody someone somebody you u ya y'all yall")
# Interjections that can precede the real start of a question: "Hey, can anyone ...", "So what ...".
_OPENERS = _wordset(
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
_SMALL_WORDS = _wordset("a an the of in on at to for and or but by with from as is vs via de la")


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
        lower = _HASHTAG_RE.sub(r"\1", stripped.lower())
        lower = _SPACES_RE.sub(" ", _MENTION_RE.sub(" ", lower)).strip(" ,:;-")
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


def is_question(text: str) -> bool:
    """True when the author asks their network something: information, recommendations or help."""
    body, has_url, is_reply = _clean(text)
    body = _PAREN_HEDGE_RE.sub(" ", body)
    body = _QUOTED_RE.sub(" ", body)
    if _ATTRIBUTION_RE.search(body):
        return False  # a quotation: the question (if any) is not the author's
    sentences = _sentences(body)
    if not sentences:
        return False
    # A shared headline ("Why X Will Keep Doing Y - Source") asks nothing even when phrased as one.
    headline = has_url and (_HEADLINE_SOURCE_RE.search(body) is not None)
    # "We're hiring! Looking for a platform engineer": a job ad seeks applicants, it asks nothing.
    hiring = _HIRING_RE.search(body.lower()) is not None
    n_questions = sum(1 for s in sentences if "?" in s.terminator)
    single = n_questions == 1 and len(sentences) <= 2
    for idx, s in enumerate(sentences):
        if "?" in s.terminator:
            if headline and not _addressed(s.lower):
                continue
            if _answered(sentences, idx):
                continue
            if _asks(s, has_url=has_url, is_reply=is_reply, single=single):
                return True
            continue
        if _NOT_REQUEST_RE.search(s.lower) or _rhetorical(s) or (hiring and _SEEKING_RE.search(s.lower)):
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


# --------------------------------------------------------------------------------------------------
# is_thanks
# --------------------------------------------------------------------------------------------------

# Gratitude expressions. Each match is then checked for negation, addressee and "in advance".
_GRATITUDE_PATTERNS = [
    # No repetition over alternatives here: "(?:you|yo|u)+" backtracks exponentially on "youyou...x".
    r"\bthank\s*(?:you+|u+|ya+|yu|yew|yo|ye|y'all|yall|q)\b",
    r"\bthank(?:you|yu|u|uu+|x)\b|\bthanking you\b",
    r"\b(?:many|big|huge|much|massive|special|all the|a thousand|a million)\s+thanks\b",
    r"\bthanks\b",
    r"\b(?:thanx+|thankz+|thnx+|thnks|thx+|tnx|thks|tq|ty|tysm|tyvm|tyty|tyy+)\b",
    # "I just wanted to thank @bob", "we thank you", "I can't thank you enough" (not "we should thank").
    r"\b(?:i|we)(?:'d|'ll)?\s+(?:(?:just|really|also|truly|sincerely|again|wanted|want|wanna|would like|like|"
    r"love|would love|must|have to|got to|gotta|can'?t|cannot)\s+)*(?:to\s+)?thank\b",
    r"\b(?:(?:much|really|greatly|truly|so|always|deeply|hugely|very)\s+)?appreciated\b",
    r"\b(?:i|we|really|truly|so|much|greatly|deeply|do)\s+appreciate\b|^appreciate\b",
    r"\bgrateful\b|\bthankful\b",
    r"\bcheers\b",
    r"\b(?:much\s+)?obliged\b",
    r"\b(?:i|we)\s+owe\s+(?:you|u|ya)\s+one\b",
    r"(?<!\w)(?:h/t|hat tip|ht)\b",
    r"\b(?:gracias|merci|danke|dank je|dankjewel|bedankt|obrigad[oa]|grazie|arigato|arigatou|mahalo|"
    r"asante|shukran|shukriya|dhanyavaad|dhanyawad|dziekuje|dzieki|tusen takk|terima kasih|salamat|"
    r"kiitos|efharisto|xie xie|spasibo|ta muchly|ta very much)\b",
    "\u0441\u043f\u0430\u0441\u0438\u0431\u043e|\u8c22\u8c22|\u3042\u308a\u304c\u3068\u3046|\u0634\u0643\u0631\u0627"
    "|\u0927\u0928\u094d\u092f\u0935\u093e\u0926|\uac10\uc0ac\ud569\ub2c8\ub2e4|\u0434\u044f\u043a\u0443\u044e"
    "|dzi\u0119kuj\u0119|gr\u00e2ce",
    # British "ta" only when it opens the message ("ta!", "ta @x"): elsewhere it is too ambiguous.
    r"^ta\b(?=\s*(?:[!.,]|$|@|very|so|mate|x\b|for\b))",
]
_GRATITUDE_RE = re.compile("|".join(f"(?:{p})" for p in _GRATITUDE_PATTERNS))
_PRAYER_RE = re.compile("\U0001f64f")
# 🙏 also means "please" or prayers: only count it when the post is not asking or praying.
_PRAYER_CONTEXT_RE = re.compile(r"\b(?:pray|prayers|praying|please|pls|plz|rip|hope|god|bless|lord|amen)\b")

# Forms that contain a gratitude word but express no gratitude to anyone.
_NOT_GRATITUDE_RE = re.compile(
    r"\b(?:no,?\s+thanks?(?:\s+you)?|no,?\s+thank\s*(?:you|u)|thanks?,?\s+but\s+no(?:,?\s+thanks?)?|"
    # A polite refusal: "thanks but I'll pass", "thanks, but we're good".
    r"(?:thanks|thank you|thx),?\s+but\s+(?:i'?ll pass|i'?m (?:good|going to pass|gonna pass|ok|okay)|"
    r"we'?re (?:good|ok|okay)|not (?:for|right) now|(?:i|we) (?:will|'ll) pass|pass)|"
    # Sarcasm: "thanks for nothing", "thanks a lot for breaking my build".
    r"thanks (?:a lot |a bunch |so much |very much )?for (?:nothing|ruining|breaking|wasting|spamming|"
    r"ignoring|blocking|spoiling|the spam|the headache|making (?:it|things|everything) worse|the unfollow|"
    r"unfollowing)|thanks,? obama|thanksgiving|thankless|thanks\s*giving|"
    r"thank (?:god|goodness|heavens|heaven|fuck|christ|lord|the lord|the gods|jesus|science)|"
    # "Thanks in advance" closes a request: it thanks nobody for anything done yet.
    r"(?:thanks|thank you|thank u|thx|ty|thanx|thnx|appreciate it|cheers)\s+(?:so much\s+|very much\s+)?"
    r"(?:in advance|ahead of time|ahead|beforehand)|tia|would appreciate|'d appreciate|"
    r"(?:would|'d) be (?:very |so |really |most )?grateful|appreciate any|grateful for any|"
    r"appreciate (?:some|your|a little|a bit of) (?:help|input|advice|thoughts|feedback)|"
    r"no (?:need to )?thanks? (?:needed|necessary|required)|no need to thank|don'?t (?:need to )?thank me|"
    r"you'?re welcome|(?:a|my|the|your|his|her|their|our)\s+thank[- ]you\s+(?:note|card|letter|email|gift)|"
    r"(?:not|never|isn'?t|wasn'?t|hardly|un)\s*(?:very\s+|so\s+|that\s+)?(?:grateful|thankful|appreciated)|"
    r"(?:don'?t|do not|didn'?t|did not|doesn'?t|never|won'?t|can'?t)\s+(?:really\s+)?appreciate|"
    r"obliged to|felt obliged|feel obliged)\b"
)
_SARCASM_RE = re.compile("\U0001f644|\U0001f612|\U0001f611|/s\\b|\\byeah,? right\\b|\\bsure,? jan\\b")
# Intensifiers and fillers between the gratitude word and its addressee or object.
_FILLER_RE = re.compile(
    r"^[\s,:;!.\-]*(?:(?:so|very|soo+|sooo+) much|a (?:lot|ton|bunch|million|mil)|again|heaps|loads|lots|"
    r"muchly|tons|as always|once again|all|both|kindly|guys|y'all|yall|folks)?[\s,:;!.\-]*"
)
_HANDLES_AFTER_RE = re.compile(r"^(?:@(\w{1,30})[\s,]*(?:(?:and|&)\s+)?)+")
_TO_TARGET_RE = re.compile(r"^to\s+(\S+)")
_YOU_RE = re.compile(r"^(?:you|u|ya|y'all|yall|ye|yourself)\b")
_FOR_RE = re.compile(r"^(?:for|4)\b")
_NAME_RE = re.compile(r"^([a-z][a-z'-]{2,})\b")
# Words after "thanks" that are not a person's name.
_NOT_NAMES = _wordset(
    "for you your mate man dude buddy pal friend friends everyone everybody all guys folks both team love "
    "again heaps lots loads tons the this that and but though tho anyway anyways bro sis fam hun babe "
    "sir madam ma'am boss chief champ legend very so much indeed though dear my our"
)
_CHEERS_OK_RE = re.compile(
    r"^\s*(?:[!.)]|$|for\b|4\b|mate|m8|buddy|pal|man|dude|love|hun|x+\b|@|you\b|ya\b|u\b|again|"
    r"\U0001f64f|\U0001f37b|\U0001f642|\U0001f60a)"
)
# "I appreciate it / you / the RT" thanks; "I appreciate the irony" does not.
_APPRECIATE_OK_RE = re.compile(
    r"^\s*(?:[!.)]|$|it\b|this\b|that\b|you|ya\b|u\b|y'?all|your|ur\b|all\b|everything|"
    r"the (?:share|rt|retweet|shout|boost|mention|support|help|love|kind|feedback|signal|repost|link|tip|"
    r"follow|intro|time|thought|note|heads)|@)"
)
_WINDOW = 120  # characters examined around a gratitude word
_MAX_GRATITUDE_MATCHES = 12
_INDIRECT_OK_RE = re.compile(
    r"@\w|\b(?:you|u|ya|your|y'all)\b|\b(?:retweet|rt|share|repost|shout ?out|mention|boost|follow|intro|"
    r"introduction|support|kind words|help|feedback|link|signal boost)\b"
)
# Gratitude to a crowd: "thanks everyone", "thank you for all the feedback, everyone!".
_GROUP_RE = re.compile(
    r"^[^.!?]*?\b(?:everyone|everybody|all of you|y'all|yall|folks|friends|guys|all)\s*(?:[!.,]|$|who|for\b)"
)
_LEAD_VERB_RE = re.compile(
    r"\b(?:should|shall|do|did|does|can|could|must|will|would|to)\s+(?:i|we)\s+(?:\w+\s+){0,3}thank\b"
)


def _norm_handle(name: str | None) -> str | None:
    if not name:
        return None
    return name.strip().lstrip("@").lower() or None


def _handles(after: str) -> list[str]:
    m = _HANDLES_AFTER_RE.match(after)
    return [h.lower() for h in _MENTION_RE.findall(m.group(0))] if m else []


@dataclass(frozen=True, slots=True)
class _Post:
    """What ``is_thanks`` computes once per post (keeps the per-match checks cheap)."""

    body: str  # lowercased text without links, RT prefix and leading mentions
    me: str | None
    leading: frozenset[str]  # handles the post replies to (its leading mentions)
    others: frozenset[str]  # every handle mentioned, except ours
    first_question: int  # index of the first "?" in body, -1 when none
    indirect_ok: bool


def _thanks_us(post: _Post, match: re.Match[str]) -> bool:
    """Whether one gratitude expression is gratitude addressed to us."""
    body, me, leading = post.body, post.me, post.leading
    phrase = match.group(0).strip()
    # A bounded window: what the gratitude is for or to whom is said right after it.
    after_raw = body[match.end() : match.end() + _WINDOW]
    if phrase in ("grateful", "thankful") and not (leading or post.indirect_ok):
        # "Grateful for a quiet week" states a feeling; it thanks us only when it speaks to someone
        # (a reply, "you", a mention) or names something we did ("grateful for the retweet").
        return False
    if _GROUP_RE.match(after_raw) and me is not None and me not in leading:
        # "Thank you for all the feedback, everyone!" thanks a crowd, not us in particular.
        return False
    if phrase == "cheers" and not _CHEERS_OK_RE.match(after_raw) and not re.match(r"^\s*to\b", after_raw):
        return False  # "cheers" as a greeting or toast ("cheers all round", "cheers, see you")
    if phrase.endswith("appreciate") and not _APPRECIATE_OK_RE.match(after_raw):
        return False
    if phrase == "ht" and not after_raw.lstrip(" :").startswith("@"):
        return False  # "ht" alone is too ambiguous; "ht @ana" is a hat tip
    if phrase.endswith(" thank") and _LEAD_VERB_RE.search(
        body[max(0, match.start() - _WINDOW) : match.end()]
    ):
        return False  # "should I thank them?" asks about thanking
    filler = _FILLER_RE.match(after_raw)
    after = after_raw[filler.end() :] if filler else after_raw
    to = _TO_TARGET_RE.match(after)
    if to:
        # "thanks to you" thanks us; "thanks to @bob" thanks bob; "thanks to the rain" is causal and
        # "thanks to everyone who came" is not addressed to us in particular.
        if _YOU_RE.match(to.group(1)):
            return True
        if to.group(1).startswith("@"):
            return me is None or me in _handles(after[len("to") :].lstrip())
        return False
    handles = _handles(after)
    if handles:
        return me is None or me in handles  # "thanks @bob!" thanks bob; "thanks @bob and @ana" us too
    name = _NAME_RE.match(after)
    if name and name.group(1) not in _NOT_NAMES and me is not None:
        # "@ana @sam_infra thanks Sam": the name picks one of the people mentioned.
        word = name.group(1)
        if word not in me and any(word in h for h in post.others):
            return False
    if leading and me is not None and me not in leading and not _YOU_RE.match(after):
        # "@bob thanks! cc @ana": the reply thanks the people it answers, and that is not us.
        return False
    # A bare "thanks!" closing a question is a sign-off (thanks in advance), not gratitude.
    after_question = 0 <= post.first_question < match.start()
    return not after_question or bool(_FOR_RE.match(after) or _YOU_RE.match(after))


def is_thanks(text: str, me_username: str | None = None) -> bool:
    """True when the post expresses gratitude to us (``me_username``, without @).

    The caller guarantees the post mentions us or replies to one of our posts, so an unaddressed
    "thanks for sharing!" is taken as addressed to us, while "thanks @bob" (and us not thanked) is not.
    """
    me = _norm_handle(me_username)
    raw = html.unescape(text).replace("\u2019", "'").replace("\u2018", "'")
    raw = _RT_PREFIX_RE.sub("", _URL_RE.sub(" ", raw))
    lower = _SPACES_RE.sub(" ", raw.lower()).strip()
    if not lower or _SARCASM_RE.search(lower):
        return False
    lead = _LEADING_MENTIONS_RE.match(lower)
    leading = {h.lower() for h in _MENTION_RE.findall(lead.group(0))} if lead else set()
    body = lower[lead.end() :] if lead else lower
    matches = list(itertools.islice(_GRATITUDE_RE.finditer(body), _MAX_GRATITUDE_MATCHES))
    if matches:
        negated = [(m.start(), m.end()) for m in _NOT_GRATITUDE_RE.finditer(body)]
        post = _Post(
            body=body,
            me=me,
            leading=frozenset(leading),
            others=frozenset(h.lower() for h in _MENTION_RE.findall(lower) if h.lower() != me),
            first_question=body.find("?"),
            indirect_ok=_INDIRECT_OK_RE.search(body) is not None,
        )
        # Bounded work per post (_MAX_GRATITUDE_MATCHES): a real thanks shows up in its first few
        # gratitude words, and a crafted post repeating "thanks" must not cost quadratic time.
        for m in matches:
            if not any(start <= m.start() < end for start, end in negated) and _thanks_us(post, m):
                return True
    if _PRAYER_RE.search(body) and not _PRAYER_CONTEXT_RE.search(body):
        return "?" not in body
    return False
