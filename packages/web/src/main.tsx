import { render } from 'preact';

render(<h1>sdapi</h1>, document.getElementById('app') as HTMLElement);
