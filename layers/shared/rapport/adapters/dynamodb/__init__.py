"""The stores on one DynamoDB table, through PynamoDB (docs/data-model.md).

``table`` holds the item models and the key schema; one module per store; ``stores.dynamodb_stores``
wires them all to one table.
"""
