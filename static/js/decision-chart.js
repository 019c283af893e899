// Accuracy against monthly cost (log scale) for the ranked candidates, with the Pareto frontier
// and the recommended candidate marked. Data comes from a <script type="application/json">
// next to the canvas; re-drawn whenever htmx swaps in a new preview.
(function () {
  function pareto(points) {
    // Cheapest first; keep a point if it is more accurate than every cheaper one.
    const sorted = points.slice().sort((a, b) => a.x - b.x || b.y - a.y);
    const frontier = [];
    let best = -Infinity;
    for (const p of sorted) {
      if (p.y > best) { frontier.push(p); best = p.y; }
    }
    return frontier;
  }

  function draw(root) {
    const canvas = root.querySelector ? root.querySelector("canvas[data-decision-chart]") : null;
    if (!canvas || typeof Chart === "undefined") return;
    const data = JSON.parse(document.getElementById(canvas.dataset.decisionChart).textContent);
    const points = data.points.filter((p) => p.y !== null && p.x > 0);
    if (Chart.getChart(canvas)) Chart.getChart(canvas).destroy();
    new Chart(canvas, {
      type: "scatter",
      data: {
        datasets: [
          { label: "Recommended", data: points.filter((p) => p.top),
            pointRadius: 9, pointStyle: "star", borderColor: "#b3261e", backgroundColor: "#b3261e" },
          { label: "Pareto frontier", data: pareto(points), showLine: true, pointRadius: 0,
            borderColor: "#2457c5", borderDash: [4, 4] },
          { label: "Candidates", data: points, pointRadius: 4,
            backgroundColor: points.map((p) => p.small ? "#2e7d4f" : "#6b4fb3") },
        ],
      },
      options: {
        animation: false,
        parsing: false,
        scales: {
          x: {
            type: "logarithmic",
            title: { display: true, text: "Monthly cost (USD, log scale)" },
            ticks: {
              // Label 1, 2 and 5 times powers of ten only; the others crowd the axis.
              callback: (value) => {
                const mantissa = Math.round(value / 10 ** Math.floor(Math.log10(value)));
                return [1, 2, 5].includes(mantissa) ? `$${Number(value).toLocaleString()}` : "";
              },
            },
          },
          y: { min: 0, max: 1, title: { display: true, text: "Accuracy on the use case's tasks" } },
        },
        plugins: {
          tooltip: { callbacks: { label: (c) => `${c.raw.label}: ${c.raw.y.toFixed(2)}, $${c.raw.x.toLocaleString()}` } },
        },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", () => draw(document));
  document.addEventListener("htmx:afterSettle", (event) => draw(event.target));
})();
