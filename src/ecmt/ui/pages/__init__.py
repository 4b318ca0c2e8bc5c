"""One QWizardPage subclass per step of docs/ux (R-1 … R-7), and the done page."""
