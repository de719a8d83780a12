/*
 * Recommendation widget for any page, on any host: plain JavaScript, no build step, no third party.
 *
 *   <script src="https://store.example/static/recommender/widget.js"
 *           data-page-url="https://blog.example/rls/" async></script>
 *
 * renders the list right after the script tag; `<div data-recommender data-page-url="..." data-limit="4">`
 * placeholders anywhere on the page are rendered too. The API origin is the script's own origin
 * (`data-api` overrides the API root). The markup and classes are those of the store's
 * `recommender/widget.html`, inside a Shadow DOM so neither page's CSS leaks into the other.
 *
 * Each item is a compact card (image, name, price, the first reason); the evidence and sources are in a
 * <details> disclosure, and a caution that several items carry is said once under the list.
 *
 * Strings: STRINGS below, overridden by `window.RecommenderWidgetI18n = {title: "..."}` and then by
 * `data-i18n-title`, `data-i18n-sources`, `data-i18n-caution`, `data-i18n-evidence`, `data-i18n-grade`,
 * `data-i18n-see-below` on the script or placeholder.
 *
 * Events: one impression per item once at least half of it is on screen, and a click when a product
 * link is followed. They carry page, product and rank only: no cookie, no identifier. Lists the store
 * rendered itself (`<section class="rec-widget" data-rec-page="slug">`, from the template tag) are
 * counted the same way when this script is on the page.
 */
(() => {
  "use strict";

  const STRINGS = {
    title: "Products related to this article",
    sources: "Sources:",
    caution: "Caution:",
    evidence: "Evidence and sources",
    grade: "Evidence:",
    seeBelow: "caution below",
  };

  const BASE_CSS = `
    :host { all: initial; display: block; color: #1d2a30;
            font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
    :host([hidden]) { display: none; }
    *, *::before, *::after { box-sizing: border-box; }
    a { color: #0b6e6e; }
    .rec-title { font-weight: 700; }
  `;

  const script =
    document.currentScript ||
    Array.from(document.querySelectorAll('script[src*="recommender/widget.js"]')).pop();
  if (!script) return;
  const scriptUrl = new URL(script.src, document.baseURI);
  const apiRoot = new URL(script.dataset.api || "/api/v1/", scriptUrl.origin).href;
  const cssHref = new URL("widget.css", scriptUrl).href;

  function strings(config) {
    const chosen = Object.assign({}, STRINGS, window.RecommenderWidgetI18n || {});
    for (const key of Object.keys(STRINGS)) {
      const attr = "i18n" + key.charAt(0).toUpperCase() + key.slice(1);
      chosen[key] = config.dataset[attr] || script.dataset[attr] || chosen[key];
    }
    return chosen;
  }

  function pageUrl() {
    const canonical = document.querySelector('link[rel="canonical"]');
    return canonical ? canonical.href : location.href.split("#")[0];
  }

  function listUrl(config) {
    const data = config.dataset;
    const slug = data.pageSlug;
    const url = slug
      ? new URL("pages/" + encodeURIComponent(slug) + "/recommendations/", apiRoot)
      : new URL("recommendations/", apiRoot);
    if (!slug) url.searchParams.set("url", data.pageUrl || pageUrl());
    if (data.limit) url.searchParams.set("limit", data.limit);
    return url.href;
  }

  // Only http(s) urls become links or images; an empty value is no url (it would resolve to the origin).
  function webUrl(value) {
    if (!value) return null;
    try {
      const url = new URL(value, scriptUrl.origin);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // Beacons are text/plain: a safelisted type needs no CORS preflight, and the API parses it as JSON.
  function send(event, beacon) {
    const url = apiRoot + "events/";
    const body = JSON.stringify(event);
    if (beacon && navigator.sendBeacon) {
      try {
        if (navigator.sendBeacon(url, new Blob([body], { type: "text/plain" }))) return;
      } catch (error) {
        // fall through to fetch
      }
    }
    fetch(url, {
      method: "POST",
      body,
      headers: { "Content-Type": "text/plain" },
      credentials: "omit",
      keepalive: true,
    }).catch(() => {});
  }

  // Evidence grades in words, as recommender/scoring/explain.py GRADE_WORDS has them.
  const GRADES = {
    guideline: "addressed in a clinical practice guideline",
    rct: "studied in randomised controlled trials",
    review: "summarised in reviews with mixed results",
    pilot: "early, limited research",
    traditional: "traditional use, little research",
  };

  function price(amount, currency) {
    if (!amount) return "";
    try {
      const lang = document.documentElement.lang || undefined;
      return new Intl.NumberFormat(lang, { style: "currency", currency: currency || "USD" }).format(Number(amount));
    } catch (error) {
      return amount + " " + (currency || "");
    }
  }

  // Codes of cautions two or more items carry: the list says them once, under the items.
  function sharedCodes(items) {
    const counts = {};
    items.forEach((item) => {
      new Set((item.cautions || []).map((c) => c.code)).forEach((code) => {
        counts[code] = (counts[code] || 0) + 1;
      });
    });
    return new Set(Object.keys(counts).filter((code) => counts[code] > 1));
  }

  function cautionNode(caution, t) {
    const row = el("p", "rec-caution");
    row.dataset.code = caution.code;
    row.append(el("strong", null, t.caution), " " + caution.text);
    return row;
  }

  function whyNode(reasons, t) {
    const details = el("details", "rec-more");
    details.append(el("summary", null, t.evidence));
    const list = el("ul", "rec-why");
    reasons.forEach((reason) => {
      const li = el("li", null, reason.label);
      const evidence = reason.evidence || {};
      if (GRADES[evidence.grade]) li.append(" ", el("span", "rec-grade", t.grade + " " + GRADES[evidence.grade] + "."));
      const citations = evidence.citations || [];
      if (citations.length) {
        const cite = el("span", "rec-cite", t.sources);
        citations.forEach((doi) => {
          const link = el("a", null, "doi:" + doi);
          link.href = "https://doi.org/" + encodeURI(doi);
          link.rel = "nofollow noopener";
          cite.append(" ", link);
        });
        li.append(" ", cite);
      }
      list.append(li);
    });
    details.append(list);
    return details;
  }

  function itemNode(item, t, shared, index) {
    const product = item.product;
    const li = el("li", "rec-item");
    li.dataset.sku = product.sku;
    li.dataset.rank = item.rank;
    const link = el("a", "rec-link");
    link.href = webUrl(item.link);
    const image = webUrl(product.image_url);
    if (image) {
      const img = el("img", "rec-image");
      img.src = image;
      img.alt = "";
      img.width = 64;
      img.height = 64;
      if (index >= 3) img.loading = "lazy";
      link.append(img);
    } else {
      const blank = el("span", "rec-image rec-image--blank", product.name.slice(0, 1));
      blank.setAttribute("aria-hidden", "true");
      link.append(blank);
    }
    link.append(el("span", "rec-name", product.name));
    li.append(link);
    const meta = el("p", "rec-meta");
    const amount = price(product.price, product.currency);
    if (amount) meta.append(el("span", "rec-price", amount), " ");
    meta.append(el("span", "rec-brand", product.brand));
    li.append(meta);
    const cautions = item.cautions || [];
    if (cautions.some((c) => shared.has(c.code))) meta.append(" ", el("span", "rec-note-ref", t.seeBelow));
    const reasons = item.reasons || [];
    if (reasons.length) li.append(el("p", "rec-reason", reasons[0].label));
    cautions.filter((c) => !shared.has(c.code)).forEach((c) => li.append(cautionNode(c, t)));
    if (reasons.length) li.append(whyNode(reasons, t));
    return li;
  }

  function widgetNode(data, t) {
    const section = el("section", "rec-widget");
    section.setAttribute("aria-labelledby", "rec-widget-title");
    const title = el("h2", "rec-title", t.title);
    title.id = "rec-widget-title";
    const list = el("ol", "rec-list");
    list.setAttribute("role", "list"); // list-style: none drops list semantics in some screen readers
    const items = data.items.filter((item) => webUrl(item.link));
    const shared = sharedCodes(items);
    items.forEach((item, index) => list.append(itemNode(item, t, shared, index)));
    section.append(title, list);
    if (shared.size) {
      const notes = el("div", "rec-notes");
      const said = new Set();
      items.forEach((item) =>
        (item.cautions || []).forEach((c) => {
          if (shared.has(c.code) && !said.has(c.code)) {
            said.add(c.code);
            notes.append(cautionNode(c, t));
          }
        })
      );
      section.append(notes);
    }
    section.append(el("p", "rec-disclaimer", "* " + data.disclaimer));
    return section;
  }

  function track(section, pageSlug) {
    const event = (type, row) => ({
      type,
      page: pageSlug,
      product: row.dataset.sku,
      rank: Number(row.dataset.rank),
    });
    const observer = new IntersectionObserver(
      (entries) => {
        entries.forEach((entry) => {
          if (!entry.isIntersecting || document.visibilityState !== "visible") return;
          observer.unobserve(entry.target);
          send(event("impression", entry.target), false);
        });
      },
      { threshold: 0.5 }
    );
    section.querySelectorAll(".rec-item").forEach((row) => {
      observer.observe(row);
      const link = row.querySelector(".rec-link");
      const followed = (e) => {
        if (e.type === "auxclick" && e.button !== 1) return;
        send(event("click", row), true);
      };
      link.addEventListener("click", followed);
      link.addEventListener("auxclick", followed);
    });
    // A list first shown in a background tab is counted when the tab comes forward.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState !== "visible") return;
      section.querySelectorAll(".rec-item").forEach((row) => {
        observer.unobserve(row);
        observer.observe(row);
      });
    });
  }

  function styled(root) {
    const base = el("style", null, BASE_CSS);
    const sheet = el("link");
    sheet.rel = "stylesheet";
    sheet.href = cssHref;
    const loaded = new Promise((resolve) => {
      sheet.addEventListener("load", resolve);
      sheet.addEventListener("error", resolve);
      setTimeout(resolve, 3000);
    });
    root.append(base, sheet);
    return loaded;
  }

  async function start(config, host) {
    host.hidden = true;
    try {
      const response = await fetch(listUrl(config), {
        credentials: "omit",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error("recommendations: HTTP " + response.status);
      const data = await response.json();
      if (!data.items || !data.items.length || !data.page || !data.page.slug) throw new Error("empty");
      const root = host.shadowRoot || host.attachShadow({ mode: "open" });
      root.replaceChildren();
      const ready = styled(root);
      const section = widgetNode(data, strings(config));
      if (!section.querySelector(".rec-item")) throw new Error("empty");
      root.append(section);
      await ready;
      host.hidden = false;
      track(section, data.page.slug);
    } catch (error) {
      // Nothing to show (an empty list, an unknown page, a refused origin): take no space at all.
      host.hidden = true;
    }
  }

  // An attribute rather than a WeakSet marks what has started, so that two copies of the script on one
  // page do not render a placeholder twice.
  function claim(node) {
    if (node.hasAttribute("data-recommender-started")) return false;
    node.setAttribute("data-recommender-started", "");
    return true;
  }

  function scan() {
    const data = script.dataset;
    if ((data.pageUrl || data.pageSlug) && claim(script)) {
      const host = el("div");
      host.className = "rec-widget-host";
      script.after(host);
      start(script, host);
    }
    document.querySelectorAll("[data-recommender]").forEach((placeholder) => {
      if (claim(placeholder)) start(placeholder, placeholder);
    });
    // Lists the store rendered itself (the template tag) are counted the same way.
    document.querySelectorAll("section.rec-widget[data-rec-page]").forEach((section) => {
      if (claim(section)) track(section, section.dataset.recPage);
    });
  }

  scan();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  window.RecommenderWidget = { scan };
})();
