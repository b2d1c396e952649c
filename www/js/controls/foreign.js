// Taipy's scenario-management elements (scenario_selector, scenario,
// scenario_dag, data_node, data_node_selector, job_selector): pg_dash has no
// scenarios, data nodes or jobs. The page is accepted with a notice and each
// such element is shown as a clearly labelled panel, so that the rest of a
// ported page works.
import { h } from '../dom.js';

const WHAT = {
  scenario_selector: 'Scenario selector',
  scenario: 'Scenario',
  scenario_dag: 'Scenario graph',
  data_node: 'Data node',
  data_node_selector: 'Data node selector',
  job_selector: 'Job selector',
};

function panel(node) {
  const what = WHAT[node.control] || node.control;
  return h('aside', { class: 'foreign-panel', role: 'note', 'aria-label': `${what}: not part of pg_dash` },
    h('div', { class: 'foreign-title' }, `${what} — not part of pg_dash`),
    h('div', { class: 'foreign-text' },
      `“${node.control}” belongs to Taipy's scenario management (scenarios, data nodes, jobs), which pg_dash does not have. `,
      'Show the data with a named query in a table or chart, and run work with a SQL action.'));
}

export default Object.fromEntries(Object.keys(WHAT).map((k) => [k, panel]));
