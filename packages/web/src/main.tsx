import { Component, type ComponentChildren, render } from 'preact';
import { App } from './app.tsx';
import './style.css';

/** A render error becomes a message with a reload button, never a blank page. */
class ErrorBoundary extends Component<{ children: ComponentChildren }, { error: Error | null }> {
  override state = { error: null as Error | null };
  override componentDidCatch(error: Error) {
    this.setState({ error });
  }
  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div class="error-box" role="alert">
        <h1>The page hit an error</h1>
        <p>{this.state.error.message}</p>
        <button type="button" onClick={() => location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}

render(
  <ErrorBoundary>
    <App />
  </ErrorBoundary>,
  document.getElementById('app') as HTMLElement,
);
