/* arraygrad's backward stepper: replays the steps recorded by autograd.backward_steps on the
   Graphviz picture above it. Everything is inline; nothing is fetched. */
(function () {
  "use strict";
  var root = document.getElementById("__ROOT_ID__");
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var data = JSON.parse(root.querySelector("script.ag-data").textContent);
  var steps = data.steps, N = steps.length;
  var area = root.querySelector(".ag-graph"), svg = area.querySelector("svg");
  var $ = function (cls) { return root.querySelector("." + cls); };
  var panel = $("ag-step"), about = $("ag-about"), choose = $("ag-choose");
  var slider = $("ag-slider"), count = $("ag-count"), playBtn = $("ag-play");
  var follow = $("ag-follow"), speed = $("ag-speed");

  // the drawn nodes and edges, by their Graphviz names (the <title> of each group)
  var nodes = {}, edges = {};
  Array.prototype.forEach.call(svg.querySelectorAll("g.node, g.edge"), function (g) {
    var t = g.querySelector("title");
    if (!t) return;
    if (g.getAttribute("class").indexOf("node") >= 0) {
      nodes[t.textContent] = g;
      var outline = g.querySelector("polygon, ellipse, path");
      if (outline) outline.classList.add("ag-outline");
    } else {
      edges[t.textContent] = g;
    }
  });
  // the data and gradient rows of each record
  var rows = {};
  Object.keys(data.init).forEach(function (name) {
    var g = nodes[name], r = {};
    if (!g) return;
    Array.prototype.forEach.call(g.querySelectorAll("text"), function (t) {
      var c = t.textContent.replace(/\u00a0/g, " ");
      if (c.indexOf("data ") === 0) r.d = t;
      else if (c.indexOf("grad ") === 0) r.g = t;
    });
    var cx = data.centres[name];
    [r.d, r.g].forEach(function (t) {  // centred in the record, whatever their length
      if (t && cx !== undefined) { t.setAttribute("x", cx); t.setAttribute("text-anchor", "middle"); }
    });
    rows[name] = r;
  });

  function setText(t, text, width) {
    if (!t || t.textContent === text) return;
    t.textContent = text;
    t.removeAttribute("textLength");
    t.removeAttribute("lengthAdjust");
    var room = (width || 0) - 4;
    if (room > 0 && t.getComputedTextLength && t.getComputedTextLength() > room) {
      t.setAttribute("textLength", room);  // squeeze a text longer than its row
      t.setAttribute("lengthAdjust", "spacingAndGlyphs");
    }
  }

  function stateAt(s) {  // what each record shows after step s: replay the changes
    var st = {}, n, i, j, e;
    for (n in data.init) st[n] = {d: data.init[n].d, g: data.init[n].g, s: data.init[n].s};
    for (i = 0; i <= s; i++) {
      for (j = 0; j < steps[i].s.length; j++) {
        e = steps[i].s[j];
        (st[e[0]] = st[e[0]] || {})[e[1]] = e[2];
      }
    }
    return st;
  }

  function lines(el, list) {
    el.textContent = "";
    list.forEach(function (l) {
      var d = document.createElement("div");
      d.className = "ag-l ag-" + l[0];
      d.textContent = typeof l[1] === "number" ? data.t[l[1]] : l[1];
      el.appendChild(d);
    });
  }

  var cur = -1, shown = {}, marked = [];
  function show(s) {
    s = Math.max(0, Math.min(N - 1, s));
    cur = s;
    var st = stateAt(s), n;
    for (n in st) {
      var want = st[n], have = shown[n] || {}, r = rows[n], w = data.widths[n] || {};
      if (r && want.d !== have.d) setText(r.d, want.d, w.d);
      if (r && want.g !== have.g) setText(r.g, want.g, w.g);
      if (want.s !== have.s && nodes[n]) {
        nodes[n].classList.toggle("ag-done", want.s === "done");
        nodes[n].classList.toggle("ag-partial", want.s === "partial");
      }
      shown[n] = want;
    }
    marked.forEach(function (el) { el.classList.remove("ag-cur", "ag-fwd", "ag-hot"); });
    marked = [];
    var step = steps[s], cls = step.p === "forward" ? "ag-fwd" : "ag-cur";
    step.c.forEach(function (n) {
      if (nodes[n]) { nodes[n].classList.add(cls); marked.push(nodes[n]); }
    });
    step.e.forEach(function (e) {
      if (edges[e]) { edges[e].classList.add("ag-hot", cls); marked.push(edges[e]); }
    });
    lines(panel, [["head", "step " + (s + 1) + " / " + N + " \u00b7 " + step.p]].concat(step.l));
    count.textContent = (s + 1) + " / " + N;
    slider.value = s;
    if (follow.checked) centre();
  }

  // ------------------------------------------------------------------ zoom and pan
  var base = svg.viewBox.baseVal, W = base.width, H = base.height, X0 = base.x, Y0 = base.y;
  var vb = {x: X0, y: Y0, w: W, h: H};
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
  function apply() { svg.setAttribute("viewBox", [vb.x, vb.y, vb.w, vb.h].join(" ")); }
  function scale() { return area.clientWidth / vb.w; }
  function zoomTo(k, cx, cy) {  // k: pixels per unit of the picture
    vb.w = area.clientWidth / k;
    vb.h = area.clientHeight / k;
    vb.x = cx - vb.w / 2;
    vb.y = cy - vb.h / 2;
    apply();
  }
  function fitScale() {
    return Math.min(area.clientWidth / (W + 8), area.clientHeight / (H + 8), 1.34);
  }
  function fit() { zoomTo(fitScale(), X0 + W / 2, Y0 + H / 2); }
  function zoom(f) { zoomTo(scale() * f, vb.x + vb.w / 2, vb.y + vb.h / 2); }
  function centre() {
    var els = steps[cur].c.map(function (n) { return nodes[n]; }).filter(Boolean);
    if (!els.length) return;
    var r = els[0].getBoundingClientRect(), a = area.getBoundingClientRect(), k = scale();
    var x = r.left + r.width / 2 - a.left, y = r.top + r.height / 2 - a.top;
    if (x > a.width * 0.2 && x < a.width * 0.8 && y > a.height * 0.2 && y < a.height * 0.8) return;
    vb.x += (x - a.width / 2) / k;
    vb.y += (y - a.height / 2) / k;
    apply();
  }
  var width = area.clientWidth || 600;
  var natural = H * Math.min(1.34, width / (W + 8)) + 8;
  area.style.height = Math.round(Math.max(240, Math.min(natural, window.innerHeight * 0.72))) + "px";
  fit();
  if (fitScale() < 0.55) {  // too small to read: a readable zoom that follows the current node
    zoomTo(1, X0 + W / 2, Y0 + H / 2);
    follow.checked = true;
  }
  var drag = null;
  area.addEventListener("pointerdown", function (ev) {
    drag = {x: ev.clientX, y: ev.clientY, moved: false};
    area.classList.add("ag-drag");
  });
  window.addEventListener("pointermove", function (ev) {
    if (!drag) return;
    var k = scale(), dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    vb.x -= dx / k;
    vb.y -= dy / k;
    drag.x = ev.clientX;
    drag.y = ev.clientY;
    apply();
  });
  window.addEventListener("pointerup", function () {
    if (drag) setTimeout(function () { drag = null; }, 0);
    area.classList.remove("ag-drag");
  });
  area.addEventListener("wheel", function (ev) {
    if (!(ev.ctrlKey || ev.metaKey)) return;  // plain wheel scrolls the page
    ev.preventDefault();
    var a = area.getBoundingClientRect(), k = scale();
    var cx = vb.x + (ev.clientX - a.left) / k, cy = vb.y + (ev.clientY - a.top) / k;
    var k2 = k * (ev.deltaY < 0 ? 1.15 : 1 / 1.15);
    vb.w = area.clientWidth / k2;
    vb.h = area.clientHeight / k2;
    vb.x = cx - (ev.clientX - a.left) / k2;
    vb.y = cy - (ev.clientY - a.top) / k2;
    apply();
  }, {passive: false});
  window.addEventListener("resize", function () { zoomTo(scale(), vb.x + vb.w / 2, vb.y + vb.h / 2); });

  // ------------------------------------------------------------------ the inspector
  var picked = null;
  data.choices.forEach(function (c) {
    var o = document.createElement("option");
    o.value = c[0];
    o.textContent = c[1];
    choose.appendChild(o);
  });
  function pick(name) {
    if (picked && nodes[picked]) nodes[picked].classList.remove("ag-picked");
    picked = name;
    if (nodes[name]) nodes[name].classList.add("ag-picked");
    choose.value = name;
    var list = [];
    (data.about[name] || []).forEach(function (a) { list = list.concat(a); });
    lines(about, list);
  }
  choose.addEventListener("change", function () { pick(choose.value); });
  Object.keys(nodes).forEach(function (name) {
    if (!data.about[name]) return;
    nodes[name].addEventListener("click", function () {
      if (!(drag && drag.moved)) pick(name);
    });
  });

  // ------------------------------------------------------------------ controls
  var timer = null;
  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
    playBtn.textContent = "\u25B6 play";
    root.removeAttribute("data-playing");
  }
  function play() {
    if (timer) { stop(); return; }
    if (cur >= N - 1) show(0);
    playBtn.textContent = "pause";
    root.setAttribute("data-playing", "1");
    timer = setInterval(function () {
      if (cur >= N - 1) { stop(); return; }
      show(cur + 1);
    }, 1000 / (+speed.value || 1.4));
  }
  function on(cls, f) { $(cls).addEventListener("click", function () { f(); root.focus(); }); }
  on("ag-first", function () { stop(); show(0); });
  on("ag-prev", function () { stop(); show(cur - 1); });
  on("ag-play", play);
  on("ag-next", function () { stop(); show(cur + 1); });
  on("ag-last", function () { stop(); show(N - 1); });
  on("ag-zoomin", function () { zoom(1.25); });
  on("ag-zoomout", function () { zoom(0.8); });
  on("ag-fit", fit);
  slider.addEventListener("input", function () { stop(); show(+slider.value); });
  speed.addEventListener("change", function () { if (timer) { stop(); play(); } });
  follow.addEventListener("change", function () { if (follow.checked) centre(); });
  root.addEventListener("keydown", function (ev) {
    if (ev.target && ev.target.tagName === "SELECT") return;
    var k = ev.key;
    if (k === "ArrowRight" || k === "ArrowDown") { stop(); show(cur + 1); }
    else if (k === "ArrowLeft" || k === "ArrowUp") { stop(); show(cur - 1); }
    else if (k === "Home") { stop(); show(0); }
    else if (k === "End") { stop(); show(N - 1); }
    else if (k === " ") play();
    else if (k === "+" || k === "=") zoom(1.25);
    else if (k === "-") zoom(0.8);
    else if (k === "f") { follow.checked = !follow.checked; if (follow.checked) centre(); }
    else return;
    ev.preventDefault();
  });
  var legend = document.createElement("div");
  legend.className = "ag-legend";
  legend.innerHTML = "<b style='border-color:#1565c0'></b>forward<b style='border-color:#e65100'>" +
    "</b>current<b style='border-color:#f9a825'></b>gradient partly summed" +
    "<b style='border-color:#2e7d32'></b>gradient final";
  panel.parentNode.insertBefore(legend, panel.nextSibling);
  show(0);
  if (data.choices.length) pick(data.choices[data.choices.length - 1][0]);
})();
