// placeholder: implementation lands with its owner
