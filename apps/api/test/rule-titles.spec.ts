/**
 * One map of rule id -> title (RULE_TITLES of @careledger/domain) for the entitlement statements
 * and the dashboard, which imports it from the labels.js the server renders: it names exactly the
 * rules of RULES.md (../shared/domain/RULES.md beside the repository, or CARELEDGER_RULES_MD), and
 * the page's script keeps no map of its own.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULE_TITLES } from '@careledger/domain';
import { labelsModule } from '../src/dashboard/assets';

const root = join(__dirname, '..', '..', '..');
const RULES_MD = process.env.CARELEDGER_RULES_MD || join(root, '..', 'shared', 'domain', 'RULES.md');

function dashboardTitles(): Map<string, string> {
  const js = labelsModule().toString('utf8');
  const block = /^export const RULE_TITLES = (\{[\s\S]*?\n\});$/m.exec(js)![1];
  return new Map(Object.entries(JSON.parse(block) as Record<string, string>));
}

describe('rule titles', () => {
  test('the dashboard reads the server\'s map, id for id and title for title, and keeps none of its own', () => {
    const dashboard = dashboardTitles();
    expect(dashboard.size).toBeGreaterThan(40);
    expect(Object.fromEntries(dashboard)).toEqual({ ...RULE_TITLES });
    const app = readFileSync(join(root, 'apps', 'api', 'src', 'dashboard', 'assets', 'app.js'), 'utf8');
    expect(app).toContain("import { FIELD_LABELS, RULE_OF, RULE_TITLES } from './labels.js';");
    expect(app).not.toMatch(/const (RULE_OF|RULE_TITLES|FIELD_LABELS) =/);
  });

  const haveRules = existsSync(RULES_MD);
  if (!haveRules) console.warn(`rule titles: ${RULES_MD} is missing (the shared contract beside the repository), so the maps are not checked against RULES.md; set CARELEDGER_RULES_MD to its path.`);
  (haveRules ? test : test.skip)('both name exactly the rules of RULES.md', () => {
    const ids = [...readFileSync(RULES_MD, 'utf8').matchAll(/^\| ([A-Z]\d{1,2}) \|/gm)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(40);
    expect(Object.keys(RULE_TITLES).sort()).toEqual([...new Set(ids)].sort());
    expect([...dashboardTitles().keys()].sort()).toEqual([...new Set(ids)].sort());
  });
});
