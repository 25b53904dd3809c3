// kfpl ui: refreshes what is still running. The pages work without it.
// Text from the server is only ever set as textContent or taken from a page
// the server rendered (and escaped), never built into markup here.
"use strict";
(function () {
  const main = document.querySelector("main");
  const every = (ms, tick) => {
    const loop = async () => { if (await tick()) setTimeout(loop, ms); };
    setTimeout(loop, ms);
  };

  // The runs list: fetch the same page again and swap in its <main>,
  // keeping the ticked runs ticked. Stops when nothing runs any more.
  if (main && main.dataset.live === "list") {
    every(2000, async () => {
      // Not while someone is typing in the filter bar: the swap would eat it.
      const filters = main.querySelector("form.filters");
      if (filters && filters.contains(document.activeElement)) return true;
      const response = await fetch(location.href, { cache: "no-store" });
      if (!response.ok) return true;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector("main");
      if (!fresh) return true;
      const ticked = new Set([...main.querySelectorAll("input[name=run]:checked")].map((b) => b.value));
      main.replaceChildren(...[...fresh.childNodes].map((n) => document.adoptNode(n)));
      main.querySelectorAll("input[name=run]").forEach((b) => { b.checked = ticked.has(b.value); });
      return fresh.dataset.live === "list";
    });
  }

  // A log: append what was written since the last look.
  const follow = async (pre) => {
    const response = await fetch(pre.dataset.log + "?from=" + pre.dataset.next, { cache: "no-store" });
    if (!response.ok) return;
    const text = await response.text();
    pre.dataset.next = response.headers.get("x-log-next") || pre.dataset.next;
    if (text) {
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(document.createTextNode(text));
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    }
  };
  const logs = [...document.querySelectorAll("pre[data-log]")];

  // A run: colour each step as its status changes; follow the open step's logs.
  if (main && main.dataset.live === "run") {
    const state = location.pathname.replace(/\/$/, "") + "/state.json";
    every(1000, async () => {
      const response = await fetch(state, { cache: "no-store" });
      if (!response.ok) return true;
      const run = await response.json();
      document.querySelectorAll("g.node[data-step]").forEach((node) => {
        const step = run.steps[node.dataset.step];
        if (!step) return;
        node.classList.remove("st-" + node.dataset.status);
        node.classList.add("st-" + step.status);
        node.dataset.status = step.status;
        const sub = node.querySelector("text.sub");
        if (sub) sub.textContent = step.text;
      });
      await Promise.all(logs.map(follow));
      if (run.status !== "running") {
        // One last full render: durations, outputs, the final badge.
        location.reload();
        return false;
      }
      return true;
    });
  }
})();
