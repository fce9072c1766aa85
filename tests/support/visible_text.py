"""What a reader sees of a page, and the English words left in a page rendered in Chinese (or the reverse).

`visible_text(html)` keeps the text nodes a browser shows (not script, style or
template content) and the attributes read out or shown to a person: title,
placeholder, aria-label, alt, and the value of a submit or button input.

`english_words(text)` returns the Latin-letter words of TEXT that are not data
or codes: a word is ignored when it is in `ALLOWED_WORDS` (proper nouns,
abbreviations and standard names that stay in Latin letters in a Chinese page,
each with its reason), or when it sits in a token that is code-like (a URL, an
e-mail address, a dotted or underscored identifier, anything with a digit).
"""

import re
from html.parser import HTMLParser

# Words a page in Chinese keeps in Latin letters, and why. Compared case-sensitively.
ALLOWED_WORDS = {
    # Names: the service, its standards and the products it names.
    "OneCard": "the service's name",
    "Django": "the framework's name, in the admin's footer",
    "FreeOTP": "an authenticator app named on the enrolment page",
    "Google": "an authenticator app named on the enrolment page",
    "Authenticator": "part of the app name Google Authenticator",
    "WebCrypto": "the browser API the proof check names",
    "Ed25519": "the signature algorithm, a standard's name",
    "SHA": "the hash function's name",
    "RFC": "a standard's series",
    "ISO": "a standard's series",
    "GB": "a standard's series (GB 11643, the resident ID)",
    "C2SP": "the standards body of the log formats",
    "mdoc": "the ISO 18013-5 credential format's name",
    "SD-JWT": "a credential format's name",
    "VC": "part of SD-JWT VC, a credential format's name",
    "OpenID": "part of OpenID4VCI, a protocol's name",
    # Abbreviations written in Latin letters in Chinese government pages too.
    "ID": "identity document",
    "IP": "internet protocol, as in IP 地址 (django-axes's login records)",
    "API": "application programming interface",
    "QR": "QR code (二维码 is used where it reads better; QR stays in names like 'QR 码')",
    "PDF": "file format",
    "CSV": "file format",
    "JSON": "file format",
    "PNG": "file format",
    "JPEG": "file format",
    "SVG": "file format",
    "JWT": "token format",
    "JWS": "token format",
    "JWK": "key format",
    "TOTP": "the one-time password standard",
    "OTP": "one-time password",
    "HTTP": "protocol",
    "HTTPS": "protocol",
    "URL": "web address",
    "UTC": "time zone",
    "CNY": "currency code",
    "KB": "unit",
    "MB": "unit",
    "CA": "certificate authority",
    # A signed checkpoint note is shown as signed: its extension line's keyword is part of the signed bytes.
    "index": "the `index <root>` line of a signed checkpoint note (docs/ledger.md), shown byte for byte",
    # Django's admin writes its boolean icons' alt text in English, untranslatable (django.contrib.admin.templatetags
    # .admin_list._boolean_icon); a screen reader still reads the icon's meaning from the column.
    "True": "alt text of Django admin's boolean icon",
    "False": "alt text of Django admin's boolean icon",
    "Search": "alt text of the search icon, written in English in Django admin's search_form.html",
    "Axes": "django-axes, the login-throttling library, named by its own app config",
}

SKIPPED_ELEMENTS = {"script", "style", "template", "noscript"}
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

# A token that is code or data rather than words: URL, e-mail, path, identifier, anything with a digit.
CODE_LIKE = re.compile(
    r"""^(
        [a-z][a-z0-9+.-]*://\S*          # URL
      | \S+@\S+                          # e-mail address
      | /\S*                             # path
      | \S*[0-9_./:=#?&<>\\{}\[\]|]\S*   # identifier, number, dotted code, key=value
      | [A-Z]{3,}(?:-[A-Z]{3,})+\W*       # an example code such as ABCDE-FGHIJ
    )$""",
    re.X,
)
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple[str, str | None]] = []
        self.skipping: list[str] = []
        self.languages: list[tuple[str, str]] = []  # (tag, lang) of the open elements that set lang

    @property
    def language(self) -> str | None:
        return self.languages[-1][1] if self.languages else None

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_ELEMENTS:
            self.skipping.append(tag)
            return
        if self.skipping:
            return
        attributes = dict(attrs)
        if attributes.get("lang") and tag not in VOID_ELEMENTS:
            self.languages.append((tag, attributes["lang"].lower()))
        for name in SHOWN_ATTRIBUTES:
            if attributes.get(name):
                self.parts.append((attributes[name], self.language))
        if tag == "input" and attributes.get("type") in ("submit", "button", "reset") and attributes.get("value"):
            self.parts.append((attributes["value"], self.language))

    def handle_endtag(self, tag):
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if self.languages and tag == self.languages[-1][0]:
            self.languages.pop()

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append((data, self.language))


def visible_text(html: str, *, language: str | None = None) -> list[str]:
    """Return the text pieces of HTML a reader sees or hears, in document order.

    With LANGUAGE, only the pieces in that language: text inside an element whose lang
    says otherwise (the name of a language in a language menu) is meant to be foreign.
    """
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return [
        " ".join(text.split())
        for text, lang in parser.parts
        if language is None or lang is None or lang == language.lower()
    ]


def data_pattern(values) -> re.Pattern:
    """Return a pattern matching any of VALUES as a whole (not inside a longer word), longest first."""
    ordered = sorted({value for value in values if value.strip()}, key=len, reverse=True)
    alternatives = "|".join(re.escape(value) for value in ordered) or "(?!)"
    return re.compile(rf"(?<![A-Za-z])(?:{alternatives})(?![A-Za-z])")


def english_words(text: str, *, data: re.Pattern | None = None) -> list[str]:
    """Return the English words in TEXT, leaving out DATA (values from the database), codes and allowed words."""
    if data is not None:
        text = data.sub(" ", text)
    words = []
    for token in text.split():
        if CODE_LIKE.match(token):
            continue
        for word in WORD.findall(token):
            if word not in ALLOWED_WORDS and len(word) > 1:
                words.append(word)
    return words


def chinese_characters(text: str, *, data: re.Pattern | None = None) -> str:
    """Return the Chinese characters and full-width punctuation in TEXT, leaving out DATA."""
    if data is not None:
        text = data.sub(" ", text)
    return "".join(CJK.findall(text))
