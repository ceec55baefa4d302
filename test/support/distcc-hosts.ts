/** The distccd-in-namespaces helper lives in testkit/ (the bench uses it too); the tests import it from here. */
export * from '../../testkit/distcc-hosts.js';
