"""Stored XSS: hostile text in every field a shopper or the staff sees is shown as text, never as markup.

Each payload of the corpus is stored, with a marker naming the field it went into, in a product's name and
brand, a tag's name and a new synonym, a placement's campaign and UTM fields, an article link's campaign, an
article's title, its content page's title (as the admin stores it: the API and the article sync store plain
text), an external page's title and url, and a shop search. The lists are refreshed, then every surface that
shows those fields is fetched (`SURFACES`): the storefront, the list and product API as JSON and in the
browsable API, the admin's changelists, change forms, previews, action form, autocomplete and stats, and the
embed snippet marketing copies. A surface fails when the payload made an element or attribute (a script holding
a marker, an `on*` attribute, a `javascript:` url, a frame), when JSON is not served as `application/json`,
and when it does not show a field it is meant to show, so no surface passes by showing nothing.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from recommender.links import linkable
from recommender.models import ArticleLink, ContentPage, DailyStat, Placement, Synonym, Tag
from recommender.services.refresh import recommendations_refresh
from shop.catalog.labels import label_svg
from shop.catalog.models import Product
from shop.content.models import Article

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "TM-CTD-8OZ"  # on the article's list, pinned there by the hostile article link; its page shows the article
PINNED = "NP-MGC-120"  # pinned on the article by the hostile placement

# `{m}` is the marker: "xss-" and the field the payload was stored in.
CORPUS = [
    pytest.param("<script>alert('{m}')</script>", id="script"),
    pytest.param("<img src=x onerror=alert('{m}')>", id="img-onerror"),
    pytest.param("<svg onload=alert('{m}')>", id="svg-onload"),
    pytest.param("javascript:alert('{m}')", id="javascript-url"),
    pytest.param("\"><script>alert('{m}')</script>", id="double-quote-break"),
    pytest.param("' onmouseover='alert(`{m}`)' x='", id="single-quote-break"),
    pytest.param("x'onmouseover='alert(/{m}/)'", id="single-quote-break-unspaced"),
    pytest.param('" onfocus="alert(\'{m}\')" autofocus="', id="double-quote-attribute"),
    pytest.param("&lt;script&gt;alert('{m}')&lt;/script&gt;", id="entity-script"),
    pytest.param("&#60;img src=x onerror=alert('{m}')&#62;", id="numeric-entity-img"),
    pytest.param("</textarea></title><script>alert('{m}')</script>", id="rcdata-break"),
    pytest.param("<a href=\"javascript:alert('{m}')\">{m}</a>", id="javascript-link"),
    pytest.param("<iframe srcdoc=\"<script>alert('{m}')</script>\"></iframe>", id="iframe-srcdoc"),
]
# The fields a payload goes into: "title" is the store's article, "pagetitle" its content page in the plugin.
FIELDS = [
    "product", "brand", "tag", "synonym", "title", "pagetitle", "external",
    "campaign", "source", "medium", "utmcampaign", "linkcampaign", "query",
]  # fmt: skip
MARKER = re.compile(r"xss-(" + "|".join(FIELDS) + r")\b")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcdoc", "data", "xlink:href", "poster", "background"}
SCRIPT_URL = re.compile(r"^(javascript|vbscript):")


class Markup(HTMLParser):
    """What an HTML answer holds: its elements with their attributes, its text, and what its scripts hold."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.in_script = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))
        self.in_script = tag == "script"
        if self.in_script:
            self.scripts.append(" ".join(value or "" for _, value in attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self.in_script else self.text).append(data)

    def live(self) -> list[str]:
        """Markup a payload could have made: any handler attribute, a script url, a frame, a script with a marker.

        The store's pages and the admin have no inline handler and no frame of their own (the CSP test checks
        the first), so any is a finding. html.parser reads a textarea's or title's content as markup, which a
        browser would not: stricter than needed, never laxer.
        """
        found = []
        for tag, attrs in self.elements:
            for name, value in attrs:
                squeezed = re.sub(r"[\x00-\x20]", "", value or "").lower()
                handler = name.startswith("on")
                script_url = name in URL_ATTRIBUTES and SCRIPT_URL.match(squeezed)
                loads_it = name in {"src", "srcdoc", "data"} and MARKER.search(squeezed)
                if handler or script_url or loads_it:
                    found.append(f"<{tag} {name}={value!r}>")
            if tag in {"iframe", "frame", "object", "embed", "base"}:
                found.append(f"<{tag} {attrs!r}>")
        return found + [f"<script>{script[:80]!r}" for script in self.scripts if MARKER.search(script)]

    def shown(self) -> set[str]:
        """The fields whose marker is on the page, as text or in an attribute's value."""
        values = [value or "" for _, attrs in self.elements for _, value in attrs]
        return {m.group(1) for chunk in [*self.text, *values] for m in MARKER.finditer(chunk)}


def json_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


LISTED = "product brand tag pagetitle source medium utmcampaign linkcampaign"  # a page's list: widget and API
ON_PRODUCT = "product brand tag pagetitle linkcampaign"  # a product's related products and articles
PLACED = "campaign source medium utmcampaign"
PREVIEW = {"title": "Restless legs", "text": "Magnesium and trace minerals for restless legs."}
AUTOCOMPLETE = "app_label=recommender&model_name=placement&field_name=product&term=xss"
ADD_TAG = {"action": "recommender_add_tag", "_selected_action": "{drops}"}
LINKED = "product pagetitle linkcampaign"
A, C = "/admin/recommender", "/admin/catalog"

# (surface, who asks, method, path, POST body, fields it shows, kind); paths and bodies are formatted with the ids
# of the stored objects. Kinds: html, json, api (the browsable API: html), csv (a download).
SURFACES: list[tuple[str, str, str, str, dict[str, str] | None, str, str]] = [
    # The storefront: the widget is the template tag, "read more" the related articles
    ("home", "anon", "GET", "/", None, "title", "html"),
    ("article list", "anon", "GET", "/learn/", None, "title", "html"),
    ("article page", "anon", "GET", f"/learn/{RLS}/", None, "title " + LISTED.replace("pagetitle ", ""), "html"),
    ("product list", "anon", "GET", "/products/", None, "product brand", "html"),
    ("product search", "anon", "GET", "/products/?q={query}", None, "query", "html"),
    ("product page", "anon", "GET", "{drops_url}", None, ON_PRODUCT, "html"),
    ("basket", "anon", "GET", "/basket/", None, "product", "html"),
    # The API: JSON for the widget and other clients, the browsable API for staff
    ("list API", "anon", "GET", f"/api/v1/pages/{RLS}/recommendations/", None, LISTED, "json"),
    ("list by url API", "anon", "GET", f"/api/v1/recommendations/?url=/learn/{RLS}/", None, LISTED, "json"),
    ("pages API", "anon", "GET", "/api/v1/pages/?page_size=100", None, "pagetitle external", "json"),
    ("tags API", "anon", "GET", "/api/v1/tags/?page_size=100", None, "tag synonym", "json"),
    ("product API", "anon", "GET", f"/api/v1/products/{DROPS}/", None, "product brand", "json"),
    ("related API", "anon", "GET", f"/api/v1/products/{DROPS}/related/", None, "tag", "json"),
    ("articles API", "anon", "GET", f"/api/v1/products/{DROPS}/articles/", None, "pagetitle linkcampaign", "json"),
    ("placements API", "staff", "GET", "/api/v1/placements/", None, PLACED, "json"),
    ("preview API", "staff", "POST", "/api/v1/recommendations/preview/", PREVIEW, "product brand tag", "json"),
    ("browsable list API", "staff", "GET", f"/api/v1/pages/{RLS}/recommendations/", None, LISTED, "api"),
    ("browsable tags API", "staff", "GET", "/api/v1/tags/?page_size=100", None, "tag synonym", "api"),
    ("browsable placements API", "staff", "GET", "/api/v1/placements/", None, PLACED, "api"),
    # The admin
    ("product changelist", "staff", "GET", f"{C}/product/", None, "product brand", "html"),
    ("product change", "staff", "GET", f"{C}/product/{{drops}}/change/", None, ON_PRODUCT, "html"),
    ("product preview", "staff", "GET", f"{C}/product/{{drops}}/recommender-preview/", None, ON_PRODUCT, "html"),
    ("product action form", "staff", "POST", f"{C}/product/", ADD_TAG, "product", "html"),
    ("product autocomplete", "staff", "GET", f"/admin/autocomplete/?{AUTOCOMPLETE}", None, "product", "json"),
    ("brand changelist", "staff", "GET", f"{C}/brand/", None, "brand", "html"),
    ("tag changelist", "staff", "GET", f"{A}/tag/", None, "tag", "html"),
    ("tag change", "staff", "GET", f"{A}/tag/{{magnesium}}/change/", None, "tag synonym", "html"),
    ("tag relations", "staff", "GET", f"{A}/tagrelation/", None, "tag", "html"),
    ("product tags", "staff", "GET", f"{A}/producttag/?tag__id__exact={{magnesium}}", None, "product tag", "html"),
    ("placement changelist", "staff", "GET", f"{A}/placement/", None, "pagetitle campaign", "html"),
    ("placement change", "staff", "GET", f"{A}/placement/{{placement}}/change/", None, "pagetitle " + PLACED, "html"),
    ("article link changelist", "staff", "GET", f"{A}/articlelink/", None, LINKED, "html"),
    ("article link change", "staff", "GET", f"{A}/articlelink/{{link}}/change/", None, LINKED, "html"),
    ("page changelist", "staff", "GET", f"{A}/contentpage/", None, "pagetitle external", "html"),
    ("page change", "staff", "GET", f"{A}/contentpage/{{page}}/change/", None, LINKED, "html"),
    ("page preview", "staff", "GET", f"{A}/contentpage/{{page}}/preview/", None, LISTED, "html"),
    ("embed snippet", "staff", "GET", f"{A}/contentpage/{{external}}/change/", None, "external", "html"),
    ("recommendations", "staff", "GET", f"{A}/recommendation/", None, "pagetitle product", "html"),
    ("stats", "staff", "GET", f"{A}/dailystat/", None, "pagetitle product", "html"),
    ("page stats", "staff", "GET", f"{A}/dailystat/?page={{page}}", None, "pagetitle product", "html"),
    ("stats export", "staff", "GET", f"{A}/dailystat/?export=csv", None, "pagetitle product", "csv"),
    ("refresh message", "staff", "POST", f"{A}/contentpage/{{page}}/refresh/", {}, "pagetitle", "html"),
]


def hostile_store(payload: str) -> dict[str, Any]:
    """The payload in every field, each with its own marker; the lists refreshed. Returns the objects."""

    def hostile(name: str) -> str:
        return payload.format(m=f"xss-{name}")

    drops = Product.objects.select_related("brand").get(sku=DROPS)
    drops.name = hostile("product")
    drops.save()
    assert drops.brand is not None
    drops.brand.name = hostile("brand")
    drops.brand.save()
    magnesium = Tag.objects.get(slug="magnesium")
    magnesium.name = hostile("tag")
    magnesium.save()
    Synonym.objects.create(tag=magnesium, text=hostile("synonym"))
    article = Article.objects.get(slug=RLS)
    article.title = hostile("title")
    article.save()
    # The admin's change form stores a page title as typed (articles and the API store plain text).
    ContentPage.objects.filter(slug=RLS).update(title=hostile("pagetitle"))
    page = ContentPage.objects.get(slug=RLS)
    placement = Placement.objects.create(
        page=page,
        product=Product.objects.get(sku=PINNED),
        action=Placement.Action.PIN,
        position=2,
        campaign=hostile("campaign"),
        utm_source=hostile("source"),
        utm_medium=hostile("medium"),
        utm_campaign=hostile("utmcampaign"),
    )
    link = ArticleLink.objects.create(page=page, product=drops, position=1, campaign=hostile("linkcampaign"))
    # An external article whose url carries the payload where a url may (encoded, or as it is when valid).
    url = f"https://blog.example.org/minerals/?q={quote(hostile('external'))}"
    raw = f"https://blog.example.org/minerals/?r={hostile('external')}"
    external = ContentPage.objects.create(
        slug="xss-external",
        url=raw if linkable(raw) else url,
        title=hostile("external"),
        text="Magnesium and trace minerals for restless legs.",
        source=ContentPage.Source.EXTERNAL,
    )
    DailyStat.objects.create(page=page, product=drops, day=timezone.localdate(), impressions=5, clicks=2)
    recommendations_refresh()
    return {"drops": drops, "magnesium": magnesium, "page": page, "placement": placement, "link": link,
            "external": external, "query": hostile("query")}  # fmt: skip


def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root-xss", password="pw-xss-123"))
    return client


def fetch(client: Client, method: str, path: str, body: dict[str, str] | None, kind: str) -> HttpResponse:
    if method == "GET":
        return client.get(path, HTTP_ACCEPT="text/html" if kind == "api" else "*/*")
    if path.startswith("/api/"):
        return client.post(path, body, content_type="application/json")
    return client.post(path, body, follow=True)


def problems(response: HttpResponse, fields: set[str], kind: str) -> list[str]:
    """Live markup the payload made, a JSON or CSV answer served as something else, fields not shown."""
    if response.status_code != 200:
        return [f"status {response.status_code}"]
    body, wrong = response.content.decode(), []
    if kind == "csv":  # a download, never a page
        served = f"{response['Content-Type']}; {response.get('Content-Disposition')}"
        wrong = [] if served.startswith("text/csv") and "attachment" in served else [f"served as {served}"]
        shown = {m.group(1) for m in MARKER.finditer(body)}
    elif kind == "json":
        if not response["Content-Type"].startswith("application/json"):
            wrong = [f"served as {response['Content-Type']}"]
        shown = {m.group(1) for text in json_strings(json.loads(body)) for m in MARKER.finditer(text)}
    else:
        markup = Markup(body)
        shown, wrong = markup.shown(), [f"live {found}" for found in markup.live()]
    missing = fields - shown
    return wrong + ([f"does not show {sorted(missing)}"] if missing else [])


def snippet_problems(response: HttpResponse, external: ContentPage) -> list[str]:
    """The snippet marketing copies from the textarea is one script tag, whose only data is the page's url."""
    shown = re.search(r'<textarea[^>]*id="embed-snippet"[^>]*>(.*?)</textarea>', response.content.decode(), re.DOTALL)
    if shown is None:
        return ["no snippet"]
    pasted = Markup(html.unescape(shown.group(1)))  # what is copied, read as the article's page will read it
    script = {"src": "http://testserver/static/recommender/widget.js", "data-page-url": external.url, "async": None}
    if [(tag, dict(attrs)) for tag, attrs in pasted.elements] != [("script", script)]:
        return [f"pasted as {pasted.elements!r}"]
    return [] if "xss-external" in external.url else ["the page's url does not carry the payload"]


@pytest.mark.parametrize("payload", CORPUS)
def test_hostile_text_is_never_live_markup(demo: None, payload: str) -> None:
    stored = hostile_store(payload)
    anon, staff = Client(), admin_client()
    assert anon.post("/basket/add/", {"sku": DROPS, "quantity": 1}).status_code == 302
    clients = {"anon": anon, "staff": staff}
    ids = {name: getattr(obj, "pk", obj) for name, obj in stored.items()}
    ids.update(drops_url=stored["drops"].get_absolute_url(), query=quote(stored["query"]))
    wrong = []
    for name, who, method, path, body, fields, kind in SURFACES:
        data = {key: value.format(**ids) for key, value in body.items()} if body is not None else None
        response = fetch(clients[who], method, path.format(**ids), data, kind)
        wrong += [f"{name}: {problem}" for problem in problems(response, set(fields.split()), kind)]
        if name == "embed snippet":
            wrong += [f"{name}: {problem}" for problem in snippet_problems(response, stored["external"])]
    assert wrong == []
    # JSON carries the text as it was stored: data for the widget's textContent, neither escaped nor cut.
    product = anon.get(f"/api/v1/products/{DROPS}/").json()
    assert (product["name"], product["brand"]) == (stored["drops"].name, stored["drops"].brand.name)


CONTEXTS = ["<p>{}</p>", '<input value="{}">', "<input value='{}'>", "<textarea>{}</textarea>", "<title>{}</title>"]


@pytest.mark.parametrize("payload", CORPUS)
def test_the_check_finds_each_payload_when_it_is_not_escaped(payload: str) -> None:
    """Without the escaping the surfaces do, each payload (entities decoded) is live somewhere; escaped, nowhere."""
    text = html.unescape(payload.format(m="xss-product"))
    link = f'<a href="{text}">x</a>'
    assert any(Markup(context.format(text)).live() for context in CONTEXTS) or Markup(link).live()
    for context in CONTEXTS:
        escaped = Markup(context.format(html.escape(text)))
        assert escaped.live() == [] and escaped.shown() == {"product"}, context


@pytest.mark.parametrize("payload", CORPUS)
def test_a_drawn_label_is_only_shapes_and_text(payload: str) -> None:
    """`draw_labels` writes the name and brand into an SVG served from the store's origin."""
    name, brand = payload.format(m="xss-product"), payload.format(m="xss-brand")
    drawn = label_svg(name=name, brand=brand, form="liquid", form_label="Liquid", colour="#0b6e6e")
    svg = ElementTree.fromstring(drawn)  # noqa: S314 - the test's own string
    elements = list(svg.iter())
    assert {e.tag.split("}")[-1] for e in elements} <= {"svg", "rect", "path", "text", "tspan"}
    assert not [attr for e in elements for attr in e.attrib if attr.lower().startswith("on")]
    assert svg.get("aria-label") == name
    assert name.replace(" ", "")[:20] in "".join(svg.itertext()).replace(" ", "")


def test_the_widget_script_builds_text_and_vetted_urls_only() -> None:
    """widget.js renders the same lists on other sites: text through textContent, urls through webUrl()."""
    script = (Path(settings.BASE_DIR) / "recommender" / "static" / "recommender" / "widget.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "srcdoc"):
        assert sink not in script, sink
    assert not re.search(r"setAttribute\(\s*[\"']on", script)
    urls = re.findall(r"\.(?:href|src)\s*=\s*([^;]+);", script)
    assert sorted(urls) == sorted(["webUrl(item.link)", "image", "cssHref", '"https://doi.org/" + encodeURI(doi)'])
    assert "const image = webUrl(product.image_url);" in script
