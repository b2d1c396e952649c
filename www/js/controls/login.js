// Taipy's login control: <|login|title=...|message=...|on_action=...|>.
// It signs the browser in as a PostgreSQL role (POST /api/login); its
// on_action, when given, is called once signed in, with {username}, before
// the page starts again as the new role.
import { signInForm } from '../auth.js';
import { toText } from '../template.js';

function login(node, ctx) {
  const fn = node.properties.on_action;
  return signInForm({
    title: toText(ctx.prop(node, 'title', 'Sign in')),
    message: toText(ctx.prop(node, 'message', '')),
    onSignedIn: typeof fn === 'string' && fn ? (username) => ctx.action(fn, { id: node.properties.id ?? null, username }) : null,
  });
}

export default { login };
