import { GraphValidationError, type GraphIssue } from '../errors/orchestration-errors.js';
import type { GraphEdge, GraphNode } from './execution-graph.js';

/** A validated graph, indexed for the executor. Edges are referred to by their index. */
export interface GraphPlan {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly byId: ReadonlyMap<string, GraphNode>;
  /** Position in a topological order of the forward edges (ties in declaration order). */
  readonly topoIndex: ReadonlyMap<string, number>;
  /** Forward (non-loop) edges into / out of each node. */
  readonly forwardIn: ReadonlyMap<string, readonly number[]>;
  readonly forwardOut: ReadonlyMap<string, readonly number[]>;
  /** Loop edges out of each node. */
  readonly loopOut: ReadonlyMap<string, readonly number[]>;
  /** For each loop edge: the nodes it sends the graph back through (from its target to its source). */
  readonly loopBody: ReadonlyMap<number, readonly string[]>;
  /** What `NodeInput.outputs` shows each node: its ancestors, and the nodes of every loop it is in (and theirs). */
  readonly visible: ReadonlyMap<string, readonly string[]>;
}

const ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * Validates a graph and indexes it. Every problem is collected: duplicate or malformed node
 * ids, edges naming unknown nodes, cycles of forward edges (a cycle needs a loop edge — one
 * with `maxTraversals` — to be bounded), and loop edges that do not go back to an ancestor.
 */
export function analyzeGraph(name: string, nodes: readonly GraphNode[], edges: readonly GraphEdge[]): GraphPlan {
  const issues: GraphIssue[] = [];
  const byId = new Map<string, GraphNode>();
  if (nodes.length === 0) issues.push({ kind: 'invalid_node', message: 'the graph has no nodes' });
  for (const node of nodes) {
    if (typeof node.id !== 'string' || !ID.test(node.id)) {
      issues.push({ kind: 'invalid_node', nodeId: String(node.id), message: `node id '${String(node.id)}' must be 1-100 letters, digits, '_' or '-'` });
    } else if (byId.has(node.id)) {
      issues.push({ kind: 'duplicate_node', nodeId: node.id, message: `node '${node.id}' is declared twice` });
    } else {
      byId.set(node.id, node);
    }
  }
  const forwardIn = new Map<string, number[]>();
  const forwardOut = new Map<string, number[]>();
  const loopOut = new Map<string, number[]>();
  for (const id of byId.keys()) {
    forwardIn.set(id, []);
    forwardOut.set(id, []);
    loopOut.set(id, []);
  }
  const loops: number[] = [];
  edges.forEach((edge, i) => {
    let ok = true;
    for (const end of [edge.from, edge.to]) {
      if (!byId.has(end)) {
        ok = false;
        issues.push({ kind: 'unknown_node', nodeId: String(end), message: `edge ${edge.from} -> ${edge.to} names unknown node '${String(end)}'` });
      }
    }
    if (!ok) return;
    if (edge.maxTraversals !== undefined) {
      loopOut.get(edge.from)!.push(i);
      loops.push(i);
    } else {
      forwardOut.get(edge.from)!.push(i);
      forwardIn.get(edge.to)!.push(i);
    }
  });

  const order = topologicalOrder([...byId.keys()], (id) => forwardOut.get(id)!.map((e) => edges[e]!.to));
  if (order.cycle) issues.push({ kind: 'cycle', cycle: order.cycle, message: `cycle without a bound: ${order.cycle.join(' -> ')} (give one of its edges maxTraversals)` });

  const loopBody = new Map<number, string[]>();
  if (!order.cycle) {
    const succ = (id: string) => forwardOut.get(id)!.map((e) => edges[e]!.to);
    const pred = (id: string) => forwardIn.get(id)!.map((e) => edges[e]!.from);
    for (const i of loops) {
      const edge = edges[i]!;
      const down = reach(edge.to, succ);
      const up = reach(edge.from, pred);
      if (!down.has(edge.from)) {
        issues.push({ kind: 'loop_edge', message: `loop edge ${edge.from} -> ${edge.to} does not go back: '${edge.to}' is not '${edge.from}' or one of its ancestors` });
        continue;
      }
      loopBody.set(i, order.order.filter((id) => down.has(id) && up.has(id)));
    }
  }
  if (issues.length > 0) throw new GraphValidationError(name, issues);
  return {
    visible: visibleNodes(order.order, (id) => forwardIn.get(id)!.map((e) => edges[e]!.from), loopBody),
    nodes,
    edges,
    byId,
    topoIndex: new Map(order.order.map((id, i) => [id, i])),
    forwardIn,
    forwardOut,
    loopOut,
    loopBody,
  };
}

/** Kahn's algorithm with declaration order for ties; on a cycle, one cycle's nodes. */
function topologicalOrder(ids: string[], successors: (id: string) => string[]): { order: string[]; cycle?: string[] } {
  const indegree = new Map(ids.map((id) => [id, 0]));
  for (const id of ids) for (const s of successors(id)) indegree.set(s, indegree.get(s)! + 1);
  const position = new Map(ids.map((id, i) => [id, i]));
  const ready = ids.filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const id = ready.shift()!;
    order.push(id);
    for (const s of successors(id)) {
      const d = indegree.get(s)! - 1;
      indegree.set(s, d);
      if (d === 0) ready.push(s);
    }
  }
  if (order.length === ids.length) return { order };
  return { order, cycle: findCycle(ids.filter((id) => indegree.get(id)! > 0), successors) };
}

function findCycle(candidates: string[], successors: (id: string) => string[]): string[] {
  const inSet = new Set(candidates);
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 1);
    stack.push(id);
    for (const s of successors(id)) {
      if (!inSet.has(s)) continue;
      if (state.get(s) === 1) return [...stack.slice(stack.indexOf(s)), s];
      if (state.get(s) === undefined) {
        const found = visit(s);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const id of candidates) {
    if (state.get(id) !== undefined) continue;
    const found = visit(id);
    if (found) return found;
  }
  return candidates;
}

function reach(start: string, next: (id: string) => string[]): Set<string> {
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const n of next(queue.pop()!)) {
      if (!seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return seen;
}

/** Each node's ancestors (in topological order), plus the members (and their ancestors) of the loops it belongs to. */
function visibleNodes(order: readonly string[], preds: (id: string) => string[], loopBody: ReadonlyMap<number, readonly string[]>): Map<string, string[]> {
  const ancestors = new Map<string, Set<string>>();
  for (const id of order) {
    const set = new Set<string>();
    for (const p of preds(id)) {
      for (const a of ancestors.get(p)!) set.add(a);
      set.add(p);
    }
    ancestors.set(id, set);
  }
  const position = new Map(order.map((id, i) => [id, i]));
  const out = new Map<string, string[]>();
  for (const id of order) {
    const set = new Set(ancestors.get(id));
    for (const body of loopBody.values()) {
      if (!body.includes(id)) continue;
      for (const member of body) {
        if (member !== id) set.add(member);
        for (const a of ancestors.get(member)!) if (a !== id) set.add(a);
      }
    }
    out.set(id, [...set].sort((a, b) => position.get(a)! - position.get(b)!));
  }
  return out;
}
