/**
 * One map of rule id -> title for the server (RULE_TITLES of @careledger/domain, used by the
 * entitlement statements) and the same map in the dashboard's script: both name exactly the rules
 * of RULES.md (../shared/domain/RULES.md beside the repository, or CARELEDGER_RULES_MD), with the
 * same titles, so a statement and the desk read the same words.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULE_TITLES } from '@careledger/domain';

const root = join(__dirname, '..', '..', '..');
const RULES_MD = process.env.CARELEDGER_RULES_MD || join(root, '..', 'shared', 'domain', 'RULES.md');

function dashboardTitles(): Map<string, string> {
  const js = readFileSync(join(root, 'apps', 'api', 'src', 'dashboard', 'assets', 'app.js'), 'utf8');
  const block = /const RULE_TITLES = \{([\s\S]*?)\n\};/.exec(js)![1];
  // the titles as the script writes them: '…' with \' for a quote
  return new Map([...block.matchAll(/^\s+([TCPWNRIX]\d{1,2}): '((?:[^'\\]|\\.)+)',$/gm)].map((m) => [m[1], m[2].replace(/\\'/g, "'")]));
}

describe('rule titles', () => {
  test('the server\'s map and the dashboard\'s are the same, id for id and title for title', () => {
    const dashboard = dashboardTitles();
    expect(dashboard.size).toBeGreaterThan(40);
    expect(Object.fromEntries(dashboard)).toEqual({ ...RULE_TITLES });
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
