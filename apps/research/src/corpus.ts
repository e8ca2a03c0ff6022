/** The offline notes the researchers search: a few short passages per topic. */
export interface Note {
  id: string;
  topic: string;
  text: string;
}

export const NOTES: readonly Note[] = [
  { id: 'n1', topic: 'cost', text: 'Heat pumps cost 2-3x a gas boiler to install, but subsidies cover up to 40 % in several EU countries.' },
  { id: 'n2', topic: 'cost', text: 'Running costs depend on the electricity-to-gas price ratio; below 3:1 a heat pump is cheaper to run.' },
  { id: 'n3', topic: 'efficiency', text: 'Air-source heat pumps reach a seasonal COP of 2.5-3.5; ground-source ones 3.5-4.5.' },
  { id: 'n4', topic: 'efficiency', text: 'Efficiency drops in deep cold, yet modern units still deliver a COP above 2 at -15 °C.' },
  { id: 'n5', topic: 'emissions', text: 'On an average EU grid a heat pump emits about 60 % less CO2 than a gas boiler for the same heat.' },
  { id: 'n6', topic: 'emissions', text: 'Refrigerant leaks matter: R290 (propane) has a global warming potential near 3, R410A near 2000.' },
  { id: 'n7', topic: 'installation', text: 'Older houses often need larger radiators or better insulation to run at low flow temperatures.' },
  { id: 'n8', topic: 'installation', text: 'A typical retrofit takes 2-5 days; installer shortages cause waits of several months.' },
  { id: 'n9', topic: 'grid', text: 'Mass adoption raises winter peak demand; smart controls and thermal storage flatten it.' },
];

/** Notes whose topic or text mentions one of the query's words (longest words first), at most 3. */
export function searchNotes(query: string): Note[] {
  const words = query.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 3);
  return NOTES.filter((n) => words.some((w) => n.topic.includes(w) || n.text.toLowerCase().includes(w))).slice(0, 3);
}
