/** Jest runs TypeScript through @swc/jest (decorator metadata on: see .swcrc). */
const libs = ['domain', 'event-store', 'ledger', 'projections', 'runtime', 'testing'];
const moduleNameMapper = {};
for (const lib of libs) {
  moduleNameMapper[`^@careledger/${lib}$`] = `<rootDir>/libs/${lib}/src`;
  moduleNameMapper[`^@careledger/${lib}/(.*)$`] = `<rootDir>/libs/${lib}/src/$1`;
}
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testRegex: '\\.spec\\.ts$',
  // the swagger plugin's files compile as `nest build` compiles them (apps/api/test/swagger-plugin.transform.js)
  transform: { '^.+\\.(dto|controller)\\.ts$': '<rootDir>/apps/api/test/swagger-plugin.transform.js', '^.+\\.(t|j)s$': ['@swc/jest'] },
  moduleNameMapper,
  testTimeout: 30000,
};
