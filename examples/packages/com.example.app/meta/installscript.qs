function Component() {
}

Component.prototype.createOperations = function() {
    component.createOperations();
}
