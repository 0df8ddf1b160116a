"""How the app looks and what the page does beside Gradio: the theme, the CSS, and the script in the head.

The theme is Gradio's Soft with every text colour that Soft leaves below WCAG 2.2 AA's contrast (4.5:1 for
text) moved a shade darker; the script sets the page's language, opens the card a citation points to and
moves focus there, gives Gradio's live and unnamed parts the roles a screen reader needs, and moves focus to
an answer when it is complete. ``docs/accessibility.md`` says what is checked and how.
"""

import gradio as gr

# Indigo 700 on white is 7.9:1, on indigo 100 6.9:1; gray 600 on the page's gray 50 is 7.3:1.
ACCENT, SUBDUED = "*primary_700", "*neutral_600"


def theme() -> gr.themes.Base:
    return gr.themes.Soft().set(
        body_text_color_subdued=SUBDUED,
        block_info_text_color=SUBDUED,
        block_label_text_color=ACCENT,
        block_title_text_color=ACCENT,
        color_accent=ACCENT,
        color_accent_soft="*primary_100",
        link_text_color=ACCENT,
        link_text_color_hover="*primary_800",
        link_text_color_visited="*primary_800",
        link_text_color_active="*primary_800",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        input_placeholder_color=SUBDUED,
        checkbox_label_background_fill_selected="*primary_700",  # the chosen past chat
    )


CSS = """
.gradio-container { max-width: 1200px !important; margin: auto; }
#app-header p { margin-top: 0; color: var(--body-text-color-subdued); }
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin: 6px 0; }
.source-card summary { cursor: pointer; line-height: 1.4; }
.source-card .num { font-weight: 700; color: var(--color-accent); }
.source-card .file, .project-card .file { font-family: var(--font-mono); font-size: 0.85em;
  color: var(--body-text-color-subdued); }
.source-card blockquote { white-space: pre-wrap; margin: 8px 0 4px; padding-left: 10px;
  border-left: 3px solid var(--color-accent); }
.source-card mark { background: #fff1a8; color: inherit; padding: 0 2px; }
.uploaded { font-size: 0.85em; background: #e8eefc; color: #1d3a8a; border-radius: 4px; padding: 0 5px; }
.source-card.flash, #chat li.flash { outline: 3px solid var(--color-accent); }
.not-covered { border: 1px solid #d9a400; background: #fff8e1; color: #5c4400; border-radius: 8px; padding: 8px 12px; }
.briefing-preview li { margin-bottom: 6px; }
#briefing-files:has(.empty) { display: none; }
.project-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 14px; margin: 10px 0; }
.project-card h2 { margin: 0 0 4px; font-size: 1.15em; }
.project-card .where, .project-card .contact { color: var(--body-text-color-subdued); margin: 2px 0; }
#chat a[href*="#source-"], .project-card a { color: var(--color-accent); font-weight: 600; }
"""

# Outside the app's scoped CSS: the page frame, the focus ring, motion, and text only screen readers get.
# The script: Gradio's markup cannot be given these attributes from Python, so they are set on the page.
HEAD = """
<style>
.main.app { box-sizing: border-box; }
@media (max-width: 640px) { .main.app { padding: 8px !important; } }
/* Gradio's tab bar never wraps, so at 320 px it pushes the page sideways; there it wraps onto two lines. */
@media (max-width: 480px) {
  .tab-wrapper { height: auto !important; }
  .tab-container { flex-wrap: wrap !important; height: auto !important; min-width: 0 !important; }
}
:focus-visible { outline: 3px solid #3730a3 !important; outline-offset: 2px; }
.screen-reader-only { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation-duration: 0.01ms !important; animation-iteration-count: 1 !important;
    transition-duration: 0.01ms !important; scroll-behavior: auto !important; }
}
</style>
<script>
(() => {
  const STATUS_IDS = ["library-status", "projects-status", "role-note"];
  const still = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const sourcesOf = (link) => {
    const message = link.closest(".message");
    return message ? [...message.querySelectorAll("ol > li")] : [];
  };
  // A citation's name says which passage it opens: "source 2: <event, date> · <title>".
  const citationName = (link) => {
    const target = link.getAttribute("href").split("#")[1];
    const n = Number(target.split("-").pop());
    const card = document.getElementById(target);
    if (target.startsWith("project-")) {
      const heading = link.closest(".project-card")?.querySelector("h2");
      return `passage ${n}: ${heading ? heading.textContent.replace(/^\\d+\\.\\s*/, "") : "in the notes"}`;
    }
    const listed = sourcesOf(link)[n - 1];
    const summary = card?.querySelector("summary")?.textContent.replace(/^\\[\\d+\\]\\s*/, "");
    const text = listed ? listed.textContent : summary;
    return `source ${n}: ${(text || "").replace(/ · /g, ", ").trim()}`;
  };
  const repair = () => {
    // The one live region answers are read out in, there before the first answer so that one is read too.
    const main = document.querySelector("main");
    if (main && !document.getElementById("announcer")) {
      const region = document.createElement("div");
      region.id = "announcer";
      region.className = "screen-reader-only";
      region.setAttribute("role", "status");
      main.appendChild(region);
    }
    if (document.documentElement.lang !== "en-GB") document.documentElement.lang = "en-GB";
    // The chat log would read out every streamed word; the answer is announced once, complete (announce).
    document.querySelectorAll("#chat [role=log][aria-live=polite]")
      .forEach((log) => log.setAttribute("aria-live", "off"));
    // Gradio lists the example questions as buttons straight under role=list, which is not a list.
    document.querySelectorAll("#chat .examples[role=list]").forEach((list) => list.removeAttribute("role"));
    for (const id of STATUS_IDS) {
      const status = document.getElementById(id);
      if (status && status.getAttribute("role") !== "status") status.setAttribute("role", "status");
    }
    document.querySelectorAll('a[href*="#source-"]:not([aria-label]), a[href*="#project-"]:not([aria-label])')
      .forEach((link) => link.setAttribute("aria-label", citationName(link)));
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; repair(); });
  }).observe(document.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ["lang"] });
  document.addEventListener("DOMContentLoaded", repair);

  // A citation opens its card (or, in an earlier answer whose cards are no longer shown, marks its line in
  // that answer's sources) and moves focus there, so a keyboard user lands on what they asked for.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a[href*="#source-"], a[href*="#project-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const target = link.getAttribute("href").split("#")[1];
    const card = document.getElementById(target);
    const shown = card || sourcesOf(link)[Number(target.split("-").pop()) - 1];
    if (!shown) return;
    const focused = card ? card.querySelector("summary") : shown;
    if (card) card.open = true;
    else shown.setAttribute("tabindex", "-1");
    shown.scrollIntoView({ behavior: still() ? "auto" : "smooth", block: "center" });
    focused.focus({ preventScroll: true });
    shown.classList.add("flash");
    setTimeout(() => shown.classList.remove("flash"), 1500);
  }, true);
})();
</script>
"""

# Run in the browser when an answer has ended: it is read out once, whole, and focus moves to it.
ANNOUNCE_ANSWER = """
() => {
  const answers = document.querySelectorAll("#chat .message.bot");
  const answer = answers[answers.length - 1];
  if (!answer) return;
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => { region.textContent = "Answer: " + answer.innerText.trim(); }, 100);
  answer.setAttribute("tabindex", "-1");
  answer.focus({ preventScroll: true });
  answer.scrollIntoView({ block: "nearest" });
}
"""
